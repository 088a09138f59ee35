"""The rules of replying (learning/replies/services.py) on every path, the page and the API:
only to an exercise assigned to the student, within the attempts the student's plan gives,
and the sync offset set only by the reply's student and the school's teachers."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from billing import plans
from billing.models import Subscription
from learning.errors import LimitReached, PermissionDenied
from learning.models import Exercise, MediaFile, Reply
from learning.replies import services as reply_services
from tenants.models import Membership
from tests.conftest import client_for
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory

STUDENT_PLAN_PATH = "/me/plan/"


def _membership(school, user) -> Membership:
    return Membership.objects.get(user=user, tenant=school.tenant)


def _send_by_api(client, exercise: Exercise, media: MediaFile):
    return client.post(
        "/api/v1/replies/",
        {"exercise": str(exercise.public_id), "media": str(media.public_id)},
        content_type="application/json",
    )


def _send_by_page(client, exercise: Exercise, media: MediaFile):
    return client.post(f"/exercises/{exercise.public_id}/", {"media": str(media.public_id)})


def _replies(school, exercise: Exercise, student) -> int:
    with tenant_context(school.tenant):
        return Reply.objects.filter(exercise=exercise, student=student).count()


# --- Only to an assigned exercise ---------------------------------------------------------


def test_replying_to_an_exercise_not_assigned_to_the_student_is_refused_everywhere(school_a):
    # Given an exercise for the other student only, and a draft, and the student's own take
    with tenant_context(school_a.tenant):
        theirs = ExerciseFactory(created_by=school_a.teacher, assign_to_all=False)
        theirs.assigned_students.set([school_a.other_student])
        draft = ExerciseFactory(
            created_by=school_a.teacher, status=Exercise.Status.DRAFT, published_at=None
        )
        take = MediaFileFactory(owner=school_a.student)
    student = client_for(school_a.student, school_a.host)

    for exercise in (theirs, draft):
        # When the student sends it through the API and through the exercise's page
        api = _send_by_api(student, exercise, take)
        page = _send_by_page(student, exercise, take)

        # Then both say the exercise is not there for them, and nothing is created
        assert api.status_code == 404, api.content
        assert set(api.json()) >= {"code", "message"}
        assert page.status_code == 404
        assert _replies(school_a, exercise, school_a.student) == 0

    # And the service refuses it too, for a caller that got hold of the exercise row
    with tenant_context(school_a.tenant):
        with pytest.raises(PermissionDenied) as refused:
            reply_services.reply_create(
                member=_membership(school_a, school_a.student), exercise=theirs, media=take
            )
        assert refused.value.code == "not_assigned"
        assert not Reply.objects.filter(media=take).exists()

    # While the student it is assigned to may reply (the positive control)
    with tenant_context(school_a.tenant):
        their_take = MediaFileFactory(owner=school_a.other_student)
    other = client_for(school_a.other_student, school_a.host)
    assert _send_by_api(other, theirs, their_take).status_code == 201


# --- The free plan's attempts per exercise --------------------------------------------------


def _used_up(school, student) -> Exercise:
    """An exercise at which `student` has sent every attempt the free plan gives."""
    with tenant_context(school.tenant):
        exercise = ExerciseFactory(created_by=school.teacher)
        for attempt in range(1, plans.FREE_ATTEMPTS_PER_EXERCISE + 1):
            ReplyFactory(exercise=exercise, student=student, attempt=attempt)
    return exercise


def test_a_free_student_gets_five_attempts_per_exercise_in_the_api(school_a):
    limit = plans.FREE_ATTEMPTS_PER_EXERCISE
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        takes = [MediaFileFactory(owner=school_a.student) for _ in range(limit + 1)]
    student = client_for(school_a.student, school_a.host)

    sent = [_send_by_api(student, exercise, take) for take in takes[:limit]]
    refused = _send_by_api(student, exercise, takes[limit])

    assert [r.status_code for r in sent] == [201] * limit
    assert [r.json()["attempt"] for r in sent] == list(range(1, limit + 1))
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "attempts_limit"
    assert f"allows {limit} attempts at each exercise" in body["message"]
    assert "Student plan" in body["message"] and STUDENT_PLAN_PATH in body["message"]
    assert body["suggestion"].endswith(STUDENT_PLAN_PATH)
    assert _replies(school_a, exercise, school_a.student) == limit
    with tenant_context(school_a.tenant):
        assert not Reply.objects.filter(media=takes[limit]).exists()


def test_a_free_student_who_used_every_attempt_is_told_on_the_page(school_a):
    exercise = _used_up(school_a, school_a.student)
    with tenant_context(school_a.tenant):
        take = MediaFileFactory(owner=school_a.student)
    student = client_for(school_a.student, school_a.host)

    response = _send_by_page(student, exercise, take)

    assert response.status_code == 200  # the form again, with the reason
    html = response.content.decode()
    assert f"allows {plans.FREE_ATTEMPTS_PER_EXERCISE} attempts at each exercise" in html
    assert STUDENT_PLAN_PATH in html
    assert _replies(school_a, exercise, school_a.student) == plans.FREE_ATTEMPTS_PER_EXERCISE
    # The limit is per student and per exercise: another student, another exercise are free
    with tenant_context(school_a.tenant):
        other_take = MediaFileFactory(owner=school_a.other_student)
        fresh = ExerciseFactory(created_by=school_a.teacher)
    other = client_for(school_a.other_student, school_a.host)
    assert _send_by_page(other, exercise, other_take).status_code == 302
    assert _send_by_page(student, fresh, take).status_code == 302


def test_the_attempts_limit_is_checked_by_the_service_itself(school_a):
    exercise = _used_up(school_a, school_a.student)
    with tenant_context(school_a.tenant):
        take = MediaFileFactory(owner=school_a.student)
        with pytest.raises(LimitReached) as refused:
            reply_services.reply_create(
                member=_membership(school_a, school_a.student), exercise=exercise, media=take
            )
        assert refused.value.code == "attempts_limit"
        assert not Reply.objects.filter(media=take).exists()


@pytest.mark.parametrize("status", [Subscription.Status.ACTIVE, Subscription.Status.TRIALING])
def test_a_student_on_the_student_plan_has_no_attempts_limit(school_a, status):
    Subscription.objects.create(
        stripe_subscription_id=f"sub_student_{status}", user=school_a.student,
        plan_code=plans.STUDENT.code, price_lookup_key=plans.STUDENT.prices[0].lookup_key,
        status=status, unit_amount=499, stripe_version=1,
    )
    exercise = _used_up(school_a, school_a.student)
    with tenant_context(school_a.tenant):
        by_api, by_page = MediaFileFactory(owner=school_a.student), MediaFileFactory(
            owner=school_a.student
        )
    student = client_for(school_a.student, school_a.host)

    sent = _send_by_api(student, exercise, by_api)
    paged = _send_by_page(student, exercise, by_page)

    assert sent.status_code == 201, sent.content
    assert sent.json()["attempt"] == plans.FREE_ATTEMPTS_PER_EXERCISE + 1
    assert paged.status_code == 302
    assert _replies(school_a, exercise, school_a.student) == plans.FREE_ATTEMPTS_PER_EXERCISE + 2


# --- The sync offset ----------------------------------------------------------------------


def _set_offset(client, reply: Reply, offset_ms: int):
    return client.post(
        f"/api/v1/replies/{reply.public_id}/sync-offset/", {"offset_ms": offset_ms},
        content_type="application/json",
    )


def _offset(school, reply: Reply) -> int:
    with tenant_context(school.tenant):
        return Reply.objects.get(pk=reply.pk).sync_offset_ms


def test_only_the_replys_student_and_the_teachers_set_the_sync_offset(school_a, school_b):
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(
            student=school_a.student, exercise__created_by=school_a.teacher, sync_offset_ms=120
        )

    # Another student of the school, a teacher of another school (on either host), nobody
    other = _set_offset(client_for(school_a.other_student, school_a.host), reply, 5000)
    assert other.status_code == 404
    assert _set_offset(client_for(school_b.teacher, school_a.host), reply, 5000).status_code == 403
    assert _set_offset(client_for(school_b.teacher, school_b.host), reply, 5000).status_code == 404
    assert _set_offset(client_for(None, school_a.host), reply, 5000).status_code in (401, 403)
    assert _offset(school_a, reply) == 120

    # The service refuses another student even when handed the reply
    with tenant_context(school_a.tenant), pytest.raises(PermissionDenied):
        reply_services.reply_set_sync_offset(
            member=_membership(school_a, school_a.other_student), reply=reply,
            offset_ms=5000,
        )
    assert _offset(school_a, reply) == 120

    # The reply's student and the school's teachers (and owner) may
    mine = _set_offset(client_for(school_a.student, school_a.host), reply, -250)
    assert mine.status_code == 200 and mine.json()["sync_offset_ms"] == -250
    assert _offset(school_a, reply) == -250
    assert _set_offset(client_for(school_a.teacher, school_a.host), reply, 310).status_code == 200
    assert _offset(school_a, reply) == 310
    assert _set_offset(client_for(school_a.owner, school_a.host), reply, 400).status_code == 200
    assert _offset(school_a, reply) == 400
