"""LTI 1.3 end to end in a browser, on the live stack (uvicorn and a real Celery worker): a
learner and an instructor open Practika from a real platform (lti1p3platform, whose /auth
page signs the launch and auto-posts it, as LMSs do); the teacher marks the learner's reply
reviewed and the worker's grade passback reaches the platform."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.lti import services as lti_services
from learning.models import ActivityEvent, Exercise, LtiIdentity, LtiRegistration, MediaFile
from tenants.models import User
from tests.conftest import member
from tests.support.browser import committed
from tests.support.factories import ExerciseFactory, ReplyFactory
from tests.support.lti_platform import INSTRUCTOR, LEARNER, LmsUser, Platform

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _get_json(stack, path: str) -> dict:
    # The test base domain does not resolve here: the live server's port, the tenant's host.
    host = f"school-a.practika.test:{stack.port}"
    response = requests.get(
        f"http://127.0.0.1:{stack.port}{path}", headers={"Host": host}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _set_up(school, platform, title):
    with tenant_context(school.tenant):
        # Accounts an interrupted run left (kept by --reuse-db): they would take students'
        # places on the school's Free plan.
        User.objects.filter(email__endswith="@lti.invalid").delete()
        lti_services.registration_create(
            member=member(school.owner, school.tenant), **platform.registration_fields()
        )
        return ExerciseFactory(created_by=school.teacher, title=title).public_id


def _reply_of(school, sub, exercise_public_id):
    with tenant_context(school.tenant):
        student = LtiIdentity.objects.get(sub=sub).user
        exercise = Exercise.objects.get(public_id=exercise_public_id)
        return ReplyFactory(exercise=exercise, student=student).public_id


def _clean_up(school, subs, exercise_public_id, since):
    from analytics import rollups
    from analytics.models import Milestone, Notification

    with tenant_context(school.tenant):
        exercise = Exercise.objects.filter(public_id=exercise_public_id).first()
        if exercise is not None:
            media = [exercise.demo_id, *exercise.replies.values_list("media_id", flat=True)]
            exercise.delete()
            MediaFile.objects.filter(pk__in=[m for m in media if m]).delete()
        users = list(LtiIdentity.objects.filter(sub__in=subs).values_list("user_id", flat=True))
        LtiIdentity.objects.filter(sub__in=subs).delete()
        LtiRegistration.objects.all().delete()
        ActivityEvent.objects.filter(occurred_at__gte=since).delete()
        Notification.objects.filter(created_at__gte=since).delete()
        Milestone.objects.filter(created_at__gte=since).delete()
        rollups.rebuild()
        # Inside the schema: deleting a user also clears the tenant tables that point at it.
        User.objects.filter(pk__in=users).delete()


def test_a_learner_from_the_lms_is_graded_when_the_teacher_reviews(browser, stack, schools):
    school = schools.a
    run = uuid.uuid4().hex[:8]
    title = f"LTI minuet {run}"
    learner = LmsUser(sub=f"browser-learner-{run}", roles=[LEARNER], name="Cleo Learner")
    teacher = LmsUser(sub=f"browser-teacher-{run}", roles=[INSTRUCTOR], name="Dan Teacher")
    since = timezone.now()
    with Platform() as platform:
        exercise_id = committed(_set_up, school, platform, title)
        try:
            platform.register_tool(
                login_url=stack.url("school-a", "/lti/login/"),
                launch_url=stack.url("school-a", "/lti/launch/"),
                tool_key_set=_get_json(stack, "/lti/jwks/"),
            )
            claims = {"exercise": str(exercise_id), "lineitem": platform.lineitem_url("li-b")}
            platform.expected = {learner.sub: (learner, claims), teacher.sub: (teacher, claims)}

            # The learner clicks the assignment in the LMS and lands on the exercise.
            student = browser.new_context().new_page()
            student.goto(platform.login_initiation(learner))
            student.wait_for_load_state()
            assert f"/exercises/{exercise_id}/" in student.url, student.content()[-1500:]
            expect(student.locator("h1")).to_contain_text(title)

            reply_id = committed(_reply_of, school, learner.sub, exercise_id)

            # The instructor opens it from the LMS too, and reviews the reply.
            reviewer = browser.new_context().new_page()
            reviewer.goto(platform.login_initiation(teacher))
            reviewer.wait_for_url(re.compile(rf"/teach/exercises/{exercise_id}/$"))
            reviewer.goto(stack.url("school-a", f"/replies/{reply_id}/"))
            reviewer.click("button[name=status][value=reviewed]")
            expect(reviewer.locator("body")).to_contain_text("is reviewed")

            # The worker posts the score to the platform (a wait, not a timing assertion).
            deadline = time.monotonic() + 60
            while not platform.received.scores and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(platform.received.scores) == 1, stack.logs()[-3000:]
            line_item, score = platform.received.scores[0]
            assert line_item == "li-b" and score["userId"] == learner.sub
            assert (score["scoreGiven"], score["scoreMaximum"]) == (1.0, 1.0)
        finally:
            committed(_clean_up, school, [learner.sub, teacher.sub], exercise_id, since)
