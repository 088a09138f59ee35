"""LTI 1.3 Advantage against a real platform implementation (tests/support/lti_platform.py:
lti1p3platform with its own keys, and an HTTP server for its token, AGS and NRPS endpoints).

Launches go the way a browser carries them: the LMS's login initiation to the tool on the
school's host, the tool's redirect to the platform's authorisation URL (state cookie and
nonce), and the platform's signed id_token posted back to the tool's launch URL.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from celery.exceptions import Retry
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from billing import plans
from billing.models import Subscription
from config.celery_app import app as celery_app
from learning.lti import services as lti_services
from learning.lti import tasks as lti_tasks
from learning.lti import tool as lti_tool
from learning.models import Classroom, LtiContext, LtiGradeTarget, LtiIdentity, LtiRegistration
from learning.replies import services as reply_services
from learning.retries import MAX_RETRIES
from tenants.models import AuditEvent, Membership, Role, User
from tests.conftest import client_for, member
from tests.support.factories import ExerciseFactory, ReplyFactory
from tests.support.lti_platform import (
    DEPLOYMENT_ID,
    DOWN_LINE_ITEM,
    GONE_LINE_ITEM,
    INSTRUCTOR,
    INTERNAL_SECRET,
    LEARNER,
    MENTOR,
    LmsUser,
    Platform,
    follow_login,
    post_launch,
    rsa_pem_pair,
)

TEACHER = LmsUser(
    sub="lms-teacher-1", roles=[INSTRUCTOR], name="Ada Lovelace", email="ada@lms.example.org"
)
LEARNER_NO_EMAIL = LmsUser(sub="lms-learner-1", roles=[LEARNER], name="Ben Learner")


@pytest.fixture(scope="module")
def platform():
    with Platform() as lms:
        yield lms


@pytest.fixture
def eager_tasks():
    conf = celery_app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


@pytest.fixture
def lms(platform, school_a, in_tenant):
    """School A's admin registers the platform; the LMS admin pastes the tool's URLs and
    keyset from the registration page."""
    cache.clear()
    platform.received.__init__()
    platform.members = []
    with in_tenant(school_a.tenant):
        lti_services.registration_create(
            member=member(school_a.owner, school_a.tenant), **platform.registration_fields()
        )
    base = f"http://{school_a.host}"
    jwks = Client(HTTP_HOST=school_a.host).get("/lti/jwks/").json()
    platform.register_tool(
        login_url=f"{base}/lti/login/", launch_url=f"{base}/lti/launch/", tool_key_set=jwks
    )
    return platform


def _subscribe_school(tenant) -> None:
    price = plans.SCHOOL.prices[0]
    Subscription.objects.create(
        stripe_subscription_id=f"sub_{tenant.slug}_lti",
        tenant=tenant,
        plan_code=plans.SCHOOL.code,
        price_lookup_key=price.lookup_key,
        status="active",
        unit_amount=price.unit_amount,
        stripe_version=1,
    )


def _launch(lms: Platform, client: Client, user: LmsUser, **claims):
    auth_request = follow_login(client, lms.login_initiation(user))
    return post_launch(client, lms.sign_launch(auth_request, user, **claims))


def _exercise(school, in_tenant):
    with in_tenant(school.tenant):
        return ExerciseFactory(created_by=school.teacher)


def test_the_registration_page_shows_the_tools_urls_and_public_key_to_admins_only(
    lms, school_a, in_tenant
):
    owner = client_for(school_a.owner, school_a.host)
    page = owner.get("/manage/lms/")
    assert page.status_code == 200
    html = page.content.decode()
    for path in ("/lti/login/", "/lti/launch/", "/lti/jwks/"):
        assert f"http://{school_a.host}{path}" in html
    with in_tenant(school_a.tenant):
        registration = LtiRegistration.objects.get()
    assert "BEGIN PUBLIC KEY" in html and registration.tool_kid in html
    assert "PRIVATE KEY" not in html
    assert client_for(school_a.teacher, school_a.host).get("/manage/lms/").status_code == 403

    created = owner.post(
        "/manage/lms/",
        {
            **lms.registration_fields(),
            "client_id": "second-client",
            "deployment_ids": "d-1\nd-2",
        },
    )
    assert created.status_code == 302
    with in_tenant(school_a.tenant):
        second = LtiRegistration.objects.get(client_id="second-client")
        assert second.deployment_ids == ["d-1", "d-2"]
        assert second.tool_kid != registration.tool_kid
    jwks = Client(HTTP_HOST=school_a.host).get("/lti/jwks/").json()
    assert {key["kid"] for key in jwks["keys"]} == {registration.tool_kid, second.tool_kid}
    assert all("d" not in key for key in jwks["keys"])  # no private part


def test_launches_sign_in_with_the_mapped_role_and_make_the_membership_once(
    lms, school_a, in_tenant
):
    exercise = _exercise(school_a, in_tenant)
    lineitem = lms.lineitem_url("li-1")
    for _ in range(2):
        for user, page in (
            (TEACHER, "learning:teacher_exercise"),
            (LEARNER_NO_EMAIL, "learning:student_exercise"),
        ):
            client = Client(HTTP_HOST=school_a.host)
            response = _launch(
                lms, client, user, exercise=str(exercise.public_id), lineitem=lineitem
            )
            assert response.status_code == 302, response.content[:300]
            assert response["Location"] == reverse(page, args=[exercise.public_id])
            assert client.get(response["Location"]).status_code == 200  # signed in

    with in_tenant(school_a.tenant):
        identities = {i.sub: i.user for i in LtiIdentity.objects.select_related("user")}
        targets = list(LtiGradeTarget.objects.all())
    assert set(identities) == {TEACHER.sub, LEARNER_NO_EMAIL.sub}
    teacher, learner = identities[TEACHER.sub], identities[LEARNER_NO_EMAIL.sub]
    assert teacher.email == TEACHER.email and teacher.full_name == "Ada Lovelace"
    assert learner.email.endswith("@lti.invalid") and not learner.has_usable_password()
    memberships = Membership.objects.filter(tenant=school_a.tenant, user__in=[teacher, learner])
    assert sorted((m.user_id, m.role) for m in memberships) == sorted(
        [(teacher.pk, Role.TEACHER), (learner.pk, Role.STUDENT)]
    )
    assert (
        AuditEvent.objects.filter(
            tenant=school_a.tenant, action="member.joined", actor__in=[teacher, learner]
        ).count()
        == 2
    )
    # The learner's grade goes to the line item of the launch they came from.
    assert [(t.user_id, t.lineitem_url, t.sub) for t in targets] == [
        (learner.pk, lineitem, LEARNER_NO_EMAIL.sub)
    ]


def test_an_existing_accounts_email_is_not_taken_over_by_an_lms(lms, school_a):
    impostor = LmsUser(sub="lms-x", roles=[INSTRUCTOR], email=school_a.owner.email)
    client = Client(HTTP_HOST=school_a.host)
    assert _launch(lms, client, impostor).status_code == 302
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert user != school_a.owner and user.email.endswith("@lti.invalid")


def test_a_mentor_gets_no_access_and_the_other_school_does_not_know_this_lms(
    lms, school_a, school_b
):
    mentor = LmsUser(sub="lms-mentor", roles=[MENTOR])
    refused = _launch(lms, Client(HTTP_HOST=school_a.host), mentor)
    assert refused.status_code == 403
    assert "instructors and learners" in refused.content.decode()

    other = Client(HTTP_HOST=school_b.host)
    url = urlsplit(lms.login_initiation(TEACHER))
    response = other.get(f"{url.path}?{url.query}")
    assert response.status_code == 400
    assert "Could not find registration details" in response.content.decode()


def test_a_replayed_launch_is_refused(lms, school_a, in_tenant):
    client = Client(HTTP_HOST=school_a.host)
    auth_request = follow_login(client, lms.login_initiation(TEACHER))
    launch_data = lms.sign_launch(auth_request, TEACHER)
    assert post_launch(client, launch_data).status_code == 302

    replayed = post_launch(Client(HTTP_HOST=school_a.host, **_cookies(client)), launch_data)
    assert replayed.status_code == 403
    assert "already used" in replayed.content.decode()
    again = post_launch(client, launch_data)
    assert again.status_code == 403


def _cookies(client: Client) -> dict:
    return {"HTTP_COOKIE": "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())}


def test_a_launch_signed_with_another_key_is_refused(lms, school_a, in_tenant):
    intruder = LmsUser(sub="lms-forged", roles=[INSTRUCTOR], email="forged@lms.example.org")
    client = Client(HTTP_HOST=school_a.host)
    auth_request = follow_login(client, lms.login_initiation(intruder))
    genuine = lms.sign_launch(auth_request, intruder)
    other_key, _ = rsa_pem_pair()

    refused = post_launch(client, lms.forge(genuine, private_key=other_key))
    assert refused.status_code == 403
    assert "Signature verification failed" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email=intruder.email).exists()
    with in_tenant(school_a.tenant):
        assert not LtiIdentity.objects.filter(sub=intruder.sub).exists()


def test_deep_linking_returns_the_chosen_exercise(lms, school_a, in_tenant):
    chosen = _exercise(school_a, in_tenant)
    other = _exercise(school_a, in_tenant)
    client = Client(HTTP_HOST=school_a.host)
    return_url = f"{lms.base}/deep-link-return"
    response = _launch(lms, client, TEACHER, deep_link_return_url=return_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("learning:lti:deep_link")
    picker = client.get(response["Location"]).content.decode()
    assert chosen.title in picker and other.title in picker

    answer = client.post(reverse("learning:lti:deep_link"), {"exercise": str(chosen.public_id)})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'action="{return_url}"' in html
    token = unescape(re.search(r'name="JWT" value="([^"]+)"', html).group(1))

    items = lms.validate_deep_link_response(token)  # the platform checks our signature
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["title"] == chosen.title
    assert item["url"] == f"http://{school_a.host}/lti/launch/"
    assert item["custom"] == {"exercise": str(chosen.public_id)}
    assert item["lineItem"]["scoreMaximum"] == 1
    # The picked answer is single-use: the session's deep-linking launch is spent.
    assert client.get(reverse("learning:lti:deep_link")).status_code == 400


def test_a_learner_cannot_deep_link(lms, school_a):
    learner = LmsUser(sub="lms-learner-dl", roles=[LEARNER])
    response = _launch(
        lms, Client(HTTP_HOST=school_a.host), learner, deep_link_return_url=f"{lms.base}/r"
    )
    assert response.status_code == 403
    assert "Only instructors" in response.content.decode()


def test_marking_a_reply_reviewed_posts_a_score_the_platform_receives(
    lms, school_a, in_tenant, eager_tasks, django_capture_on_commit_callbacks
):
    exercise = _exercise(school_a, in_tenant)
    student = Client(HTTP_HOST=school_a.host)
    launched = _launch(
        lms,
        student,
        LEARNER_NO_EMAIL,
        exercise=str(exercise.public_id),
        lineitem=lms.lineitem_url("li-7"),
    )
    assert launched.status_code == 302
    learner = User.objects.get(pk=student.session["_auth_user_id"])
    with in_tenant(school_a.tenant):
        reply = ReplyFactory(exercise=exercise, student=learner)

    teacher = client_for(school_a.teacher, school_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher.post(f"/replies/{reply.public_id}/review/", {"status": "reviewed"})
    assert response.status_code == 302

    assert len(lms.received.tokens) == 1  # a client-credentials token, for the score scope
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in lms.received.tokens[0]["scope"]
    assert len(lms.received.scores) == 1
    line_item, score = lms.received.scores[0]
    assert line_item == "li-7"
    assert score["userId"] == LEARNER_NO_EMAIL.sub
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1.0, 1.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    with in_tenant(school_a.tenant):
        reply.refresh_from_db()
        target = LtiGradeTarget.objects.get(user=learner)
    assert (reply.score_given, reply.score_maximum) == (1.0, 1.0)
    assert target.last_posted_at is not None and target.last_error == ""


def test_a_reply_without_an_lms_launch_sends_nothing(
    lms, school_a, in_tenant, eager_tasks, django_capture_on_commit_callbacks
):
    exercise = _exercise(school_a, in_tenant)
    with in_tenant(school_a.tenant):
        reply = ReplyFactory(exercise=exercise, student=school_a.student)
    teacher = client_for(school_a.teacher, school_a.host)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        teacher.post(f"/replies/{reply.public_id}/review/", {"status": "reviewed"})
    assert lms.received.scores == [] and lms.received.tokens == []
    assert not any("lti" in repr(c) for c in callbacks)


def test_an_nrps_sync_fills_the_courses_class_once(
    lms, school_a, in_tenant, eager_tasks, django_capture_on_commit_callbacks
):
    learners = [
        LmsUser(sub=f"roster-learner-{n}", roles=[LEARNER], name=f"Learner {n}") for n in (1, 2)
    ]
    lms.members = [TEACHER, *learners, LmsUser(sub="roster-mentor", roles=[MENTOR])]
    client = Client(HTTP_HOST=school_a.host)
    assert _launch(lms, client, TEACHER).status_code == 302  # records the course
    with in_tenant(school_a.tenant):
        course = LtiContext.objects.get()
    assert course.title == "Violin 101" and course.memberships_url == f"{lms.base}/memberships"

    def sync():
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/teach/lms-courses/{course.public_id}/sync/")
        assert response.status_code == 302

    # On the Free plan (3 students, 2 taken) one learner fits; the course says why not both.
    sync()
    with in_tenant(school_a.tenant):
        course.refresh_from_db()
        assert course.classroom.students.count() == 1
    assert "1 of the course's people could not join" in course.roster_error
    assert "limit of 3 students" in course.roster_error
    page = client.get("/teach/lms-courses/").content.decode()
    assert "could not join" in page

    _subscribe_school(school_a.tenant)
    sync()
    sync()  # a second sync changes nothing

    assert lms.received.roster_requests == 3
    with in_tenant(school_a.tenant):
        course.refresh_from_db()
        classroom = Classroom.objects.get(pk=course.classroom_id)
        in_class = set(classroom.students.values_list("pk", flat=True))
        subs = dict(LtiIdentity.objects.values_list("sub", "user_id"))
    assert classroom.name == "Violin 101" and course.roster_synced_at is not None
    assert course.roster_error == ""
    assert in_class == {subs[learner.sub] for learner in learners}
    assert "roster-mentor" not in subs
    roles = dict(
        Membership.objects.filter(tenant=school_a.tenant, user__in=subs.values()).values_list(
            "user_id", "role"
        )
    )
    assert roles == {
        subs[TEACHER.sub]: Role.TEACHER,
        **{subs[learner.sub]: Role.STUDENT for learner in learners},
    }
    assert (
        AuditEvent.objects.filter(
            tenant=school_a.tenant, action="member.joined", actor_id__in=subs.values()
        ).count()
        == 3
    )
    # Students may not ask for a sync.
    student = client_for(school_a.student, school_a.host)
    assert student.post(f"/teach/lms-courses/{course.public_id}/sync/").status_code == 403


def _reviewed_reply_from(lms, school, in_tenant, lineitem: str):
    """A learner launched with `lineitem`; their reply, reviewed (its task not run)."""
    exercise = _exercise(school, in_tenant)
    student = Client(HTTP_HOST=school.host)
    learner_lms = LmsUser(sub=f"lms-learner-{lineitem}", roles=[LEARNER])
    _launch(lms, student, learner_lms, exercise=str(exercise.public_id), lineitem=lineitem)
    learner = User.objects.get(pk=student.session["_auth_user_id"])
    with in_tenant(school.tenant):
        reply = ReplyFactory(exercise=exercise, student=learner)
        reply_services.reply_review(
            member=member(school.teacher, school.tenant), reply=reply, status="reviewed"
        )
    return reply


def test_a_platform_that_is_down_is_retried_and_then_given_up_on(lms, school_a, in_tenant):
    reply = _reviewed_reply_from(lms, school_a, in_tenant, lms.lineitem_url(DOWN_LINE_ITEM))
    with in_tenant(school_a.tenant):
        with pytest.raises(Retry):
            lti_tasks.lti_post_score.apply(args=[reply.pk], throw=True).get()
        assert LtiGradeTarget.objects.get().last_error == ""

        last = lti_tasks.lti_post_score.apply(args=[reply.pk], retries=MAX_RETRIES).get()
        assert last == "failed"
        target = LtiGradeTarget.objects.get()
    assert target.last_error == lti_tasks.GAVE_UP and target.last_posted_at is None
    assert lms.received.scores == []


def test_a_line_item_the_lms_deleted_is_a_recorded_refusal_not_a_retry(lms, school_a, in_tenant):
    reply = _reviewed_reply_from(lms, school_a, in_tenant, lms.lineitem_url(GONE_LINE_ITEM))
    with in_tenant(school_a.tenant):
        assert lti_tasks.lti_post_score.apply(args=[reply.pk], throw=True).get() == "refused"
        target = LtiGradeTarget.objects.get()
    assert "refused the request (404)" in target.last_error


def test_an_lms_disconnected_and_connected_again_finds_its_people(lms, school_a, in_tenant):
    first = Client(HTTP_HOST=school_a.host)
    assert _launch(lms, first, TEACHER).status_code == 302
    with in_tenant(school_a.tenant):
        registration = LtiRegistration.objects.get()
    owner = client_for(school_a.owner, school_a.host)
    deleted = owner.post(f"/manage/lms/{registration.public_id}/delete/")
    assert deleted.status_code == 302
    refused = Client(HTTP_HOST=school_a.host)
    url = urlsplit(lms.login_initiation(TEACHER))
    assert refused.get(f"{url.path}?{url.query}").status_code == 400  # no longer known

    with in_tenant(school_a.tenant):
        lti_services.registration_create(
            member=member(school_a.owner, school_a.tenant), **lms.registration_fields()
        )
    jwks = Client(HTTP_HOST=school_a.host).get("/lti/jwks/").json()  # a new key
    base = f"http://{school_a.host}"
    lms.register_tool(
        login_url=f"{base}/lti/login/", launch_url=f"{base}/lti/launch/", tool_key_set=jwks
    )
    again = Client(HTTP_HOST=school_a.host)
    assert _launch(lms, again, TEACHER).status_code == 302
    assert again.session["_auth_user_id"] == first.session["_auth_user_id"]


def test_a_keyset_url_pointed_inside_the_network_shows_nothing_of_what_it_fetched(
    lms, school_a, in_tenant
):
    with in_tenant(school_a.tenant):
        LtiRegistration.objects.update(jwks_url=f"{lms.base}/internal")
    refused = _launch(lms, Client(HTTP_HOST=school_a.host), TEACHER)
    assert refused.status_code == 403
    html = refused.content.decode()
    assert (
        "could not read the LMS&#x27;s keyset" in html or "could not read the LMS's keyset" in html
    )
    assert INTERNAL_SECRET not in html


def test_bad_input_on_the_pages_gets_a_sentence(lms, school_a):
    owner = client_for(school_a.owner, school_a.host)
    bad = owner.post("/manage/lms/", {**lms.registration_fields(), "jwks_url": "not a url"})
    assert bad.status_code == 400 and "Enter a valid URL" in bad.content.decode()
    taken = owner.post(
        "/manage/lms/", {**lms.registration_fields(), "deployment_ids": DEPLOYMENT_ID}
    )
    assert taken.status_code == 400 and "registered already" in taken.content.decode()
    none = owner.post(
        "/manage/lms/", {**lms.registration_fields(), "client_id": "x", "deployment_ids": " \n "}
    )
    assert none.status_code == 400 and "This field is required" in none.content.decode()

    teacher = Client(HTTP_HOST=school_a.host)
    _launch(lms, teacher, TEACHER, deep_link_return_url=f"{lms.base}/r")
    picked = teacher.post(reverse("learning:lti:deep_link"), {"exercise": "not-an-id"}, follow=True)
    assert "Pick one of the published exercises." in picked.content.decode()
    # Without a deep-linking launch in the session, the picker says where to start.
    assert client_for(school_a.teacher, school_a.host).get("/lti/deep-link/").status_code == 400


LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ([f"{LIS}membership#Instructor"], Role.TEACHER),
        ([f"{LIS}membership/Instructor#TeachingAssistant"], Role.TEACHER),
        ([f"{LIS}membership#Administrator"], Role.TEACHER),
        ([f"{LIS}institution/person#Administrator"], Role.TEACHER),
        ([f"{LIS}system/person#Administrator"], Role.TEACHER),
        (["Instructor"], Role.TEACHER),  # the short form some platforms send
        ([f"{LIS}membership#Learner"], Role.STUDENT),
        (["Learner"], Role.STUDENT),
        ([f"{LIS}membership#Learner", f"{LIS}membership#Instructor"], Role.TEACHER),
        ([f"{LIS}membership#Mentor"], None),
        ([f"{LIS}membership#Mentor", f"{LIS}system/person#User"], None),
        ([f"{LIS}membership#ContentDeveloper"], None),
        ([], None),
    ],
)
def test_lti_roles_map_to_practikas(roles, role):
    assert lti_tool.role_of(roles) == role
