"""Plan limits on every path (page and API): students, exercises, storage; a canceled plan keeps
data readable; a past-due tenant past its grace period is read-only for creation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import plans, selectors, services
from billing.errors import LimitReached
from billing.models import Subscription
from learning.models import Exercise, MediaFile
from tenants.models import Membership, Role, User
from tests.billing.conftest import deliver, event
from tests.conftest import PASSWORD, client_for
from tests.support.factories import ExerciseFactory, MediaFileFactory

UPGRADE_PATH = "/manage/billing/"


def _student(email: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD)


def _fill_exercises(school, count: int) -> None:
    with tenant_context(school.tenant):
        ExerciseFactory.create_batch(count, created_by=school.teacher)


def _subscribe(tenant, *, plan=plans.TEACHER, status="active", **fields) -> Subscription:
    price = plan.prices[0]
    return Subscription.objects.create(
        stripe_subscription_id=f"sub_{tenant.slug}_{plan.code}", tenant=tenant,
        plan_code=plan.code, price_lookup_key=price.lookup_key, status=status,
        unit_amount=price.unit_amount, stripe_version=1, **fields,
    )


# --- Students -----------------------------------------------------------------------------


def test_a_free_studio_refuses_its_fourth_student_in_the_api(school_a):
    # School A has two students: a third may join, a fourth may not.
    third, fourth = _student("third@example.com"), _student("fourth@example.com")
    code = school_a.tenant.join_code

    ok = client_for(third, school_a.host).post("/api/v1/join/", {"code": code})
    refused = client_for(fourth, school_a.host).post("/api/v1/join/", {"code": code})

    assert ok.status_code in (200, 201)
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "student_limit"
    assert "limit of 3 students" in body["message"] and UPGRADE_PATH in body["message"]
    assert body["suggestion"].endswith(UPGRADE_PATH)
    assert not Membership.objects.filter(user=fourth).exists()


def test_a_free_studio_refuses_its_fourth_student_on_the_join_page(school_a):
    Membership.objects.create(
        user=_student("third@example.com"), tenant=school_a.tenant, role=Role.STUDENT
    )
    client = client_for(None, school_a.host)

    response = client.post(
        f"/join/{school_a.tenant.join_code}/",
        {"code": school_a.tenant.join_code, "full_name": "Four", "email": "four@example.com",
         "password": PASSWORD},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "limit of 3 students" in page and UPGRADE_PATH in page
    assert not User.objects.filter(email="four@example.com").exists()


def test_a_teacher_plan_takes_more_students(school_a):
    # School A has two students; with a third the free plan is full.
    Membership.objects.create(
        user=_student("third@example.com"), tenant=school_a.tenant, role=Role.STUDENT
    )
    fourth = _student("fourth@example.com")
    client = client_for(fourth, school_a.host)
    code = school_a.tenant.join_code

    refused = client.post("/api/v1/join/", {"code": code})
    _subscribe(school_a.tenant)
    joined = client.post("/api/v1/join/", {"code": code})
    Membership.objects.create(
        user=_student("fifth@example.com"), tenant=school_a.tenant, role=Role.STUDENT
    )

    assert refused.status_code == 403 and refused.json()["code"] == "student_limit"
    assert joined.status_code == 200, joined.content
    assert Membership.objects.filter(
        user=fourth, tenant=school_a.tenant, role=Role.STUDENT
    ).exists()
    services.check_can_add_student(tenant=school_a.tenant)  # 5 students, limit 100


# --- Exercises ----------------------------------------------------------------------------


def test_the_eleventh_exercise_is_refused_in_the_api(school_a):
    _fill_exercises(school_a, 10)

    response = client_for(school_a.teacher, school_a.host).post(
        "/api/v1/exercises/", {"title": "Eleven"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "exercise_limit"
    assert "allows 10 exercises" in response.json()["message"]
    assert UPGRADE_PATH in response.json()["message"]
    with tenant_context(school_a.tenant):
        assert Exercise.objects.count() == 10


def test_the_eleventh_exercise_is_refused_on_the_page(school_a):
    _fill_exercises(school_a, 10)

    response = client_for(school_a.teacher, school_a.host).post(
        "/teach/exercises/new/", {"title": "Eleven", "assign": "all"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "allows 10 exercises" in page and UPGRADE_PATH in page


def test_the_tenth_exercise_is_still_allowed(school_a):
    _fill_exercises(school_a, 9)

    response = client_for(school_a.teacher, school_a.host).post(
        "/api/v1/exercises/", {"title": "Ten"}, content_type="application/json"
    )

    assert response.status_code == 201


# --- Storage and video length -------------------------------------------------------------


def test_an_upload_past_the_storage_limit_is_refused_in_the_api(school_a):
    with tenant_context(school_a.tenant):
        MediaFileFactory(owner=school_a.teacher, size_bytes=2 * plans.GB - 5_000_000)

    response = client_for(school_a.teacher, school_a.host).post(
        "/api/v1/uploads/",
        {"purpose": "demonstration", "filename": "scale.mp4", "size": 10_000_000},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "storage_limit"
    assert "storage limit of 2 GB" in response.json()["message"]
    assert UPGRADE_PATH in response.json()["message"]


def test_storage_ignores_failed_uploads(school_a, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT, settings.AWS_STORAGE_BUCKET_NAME = str(tmp_path), ""
    with tenant_context(school_a.tenant):
        big = MediaFileFactory(
            owner=school_a.teacher, size_bytes=3 * plans.GB, state=MediaFile.State.READY
        )
    client = client_for(school_a.teacher, school_a.host)

    def start():
        return client.post(
            "/api/v1/uploads/",
            {"purpose": "demonstration", "filename": "scale.mp4", "size": 10_000_000},
            content_type="application/json",
        )

    refused = start()  # the 3 GB file counts while it is ready
    with tenant_context(school_a.tenant):
        MediaFile.objects.filter(pk=big.pk).update(state=MediaFile.State.FAILED)
    started = start()

    assert refused.status_code == 403 and refused.json()["code"] == "storage_limit"
    assert started.status_code == 201, started.content
    with tenant_context(school_a.tenant):
        assert MediaFile.objects.filter(
            public_id=started.json()["media"]["id"], state=MediaFile.State.AWAITING_UPLOAD
        ).exists()


def test_video_length_follows_the_tenant_plan_and_the_students_own_plan(school_a):
    with pytest.raises(LimitReached) as refused:
        services.check_upload_allowed(
            tenant=school_a.tenant, size_bytes=1000, duration_s=6 * 60, user=school_a.student
        )
    assert refused.value.code == "video_length_limit"

    Subscription.objects.create(
        stripe_subscription_id="sub_student", user=school_a.student, plan_code="student",
        status="active", unit_amount=499, stripe_version=1,
    )
    services.check_upload_allowed(
        tenant=school_a.tenant, size_bytes=1000, duration_s=6 * 60, user=school_a.student
    )
    # The student's plan lifts the limit to its own length, not beyond.
    with pytest.raises(LimitReached) as still_refused:
        services.check_upload_allowed(
            tenant=school_a.tenant, size_bytes=1000, duration_s=31 * 60, user=school_a.student
        )
    assert still_refused.value.code == "video_length_limit"
    assert "up to 30 minutes" in still_refused.value.message
    assert selectors.entitlements_for_student(school_a.student).attempts_per_exercise is None


# --- Downgrades never delete ----------------------------------------------------------------


def test_a_canceled_plan_keeps_everything_readable_and_refuses_more(school_a):
    subscription = _subscribe(school_a.tenant)
    _fill_exercises(school_a, 15)
    subscription.status = "canceled"
    subscription.save()
    client = client_for(school_a.teacher, school_a.host)

    listed = client.get("/api/v1/exercises/?limit=100")
    created = client.post(
        "/api/v1/exercises/", {"title": "Sixteen"}, content_type="application/json"
    )

    assert listed.status_code == 200 and listed.json()["count"] == 15
    assert created.status_code == 403 and created.json()["code"] == "exercise_limit"
    assert client.get("/teach/exercises/").status_code == 200


# --- Failed payments ----------------------------------------------------------------------


def test_past_due_within_grace_still_creates(school_a, settings):
    settings.PRACTIKA_BILLING_GRACE_DAYS = 14
    subscription = _subscribe(school_a.tenant, plan=plans.SCHOOL, status="past_due",
                              past_due_since=timezone.now() - timedelta(days=3))
    client = client_for(school_a.teacher, school_a.host)

    created = client.post(
        "/api/v1/exercises/", {"title": "Within grace"}, content_type="application/json"
    )
    subscription.past_due_since = timezone.now() - timedelta(days=15)
    subscription.save(update_fields=["past_due_since"])
    refused = client.post(
        "/api/v1/exercises/", {"title": "Beyond grace"}, content_type="application/json"
    )

    assert created.status_code == 201, created.content
    assert refused.status_code == 403 and refused.json()["code"] == "payment_overdue"
    with tenant_context(school_a.tenant):
        assert list(Exercise.objects.values_list("title", flat=True)) == ["Within grace"]


def test_past_due_beyond_grace_reads_but_cannot_create_until_paid(
    school_a, settings, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    settings.PRACTIKA_BILLING_GRACE_DAYS = 14
    subscription = _subscribe(
        school_a.tenant, plan=plans.SCHOOL, status="past_due", quantity=2,
        past_due_since=timezone.now() - timedelta(days=15),
    )
    _fill_exercises(school_a, 3)
    client = client_for(school_a.teacher, school_a.host)

    listed = client.get("/api/v1/exercises/")
    refused = client.post("/api/v1/exercises/", {"title": "New"}, content_type="application/json")

    assert listed.status_code == 200 and listed.json()["count"] == 3
    assert refused.status_code == 403 and refused.json()["code"] == "payment_overdue"
    assert "stays readable" in refused.json()["message"]

    invoice = {"id": "in_grace", "object": "invoice", "customer": "cus_test",
               "subscription": subscription.stripe_subscription_id, "amount_due": 1000,
               "amount_paid": 1000, "status": "paid", "created": 1_750_000_000}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(event("invoice.paid", invoice, created=1_750_000_000)).status_code == 200

    allowed = client.post("/api/v1/exercises/", {"title": "New"}, content_type="application/json")
    assert allowed.status_code == 201


def test_the_past_due_banner_shows_to_owners_only(school_a):
    _subscribe(school_a.tenant, plan=plans.SCHOOL, status="past_due",
               past_due_since=timezone.now() - timedelta(days=1))

    owner_page = client_for(school_a.owner, school_a.host).get("/manage/billing/")

    assert owner_page.status_code == 200
    assert "Payment failed." in owner_page.content.decode()
    assert owner_page.context["billing_past_due"].past_due


# --- Offline: no Stripe keys ----------------------------------------------------------------


def test_without_stripe_keys_billing_pages_work_on_the_free_plan(school_a, settings):
    settings.STRIPE_SECRET_KEY = ""

    page = client_for(school_a.owner, school_a.host).get("/manage/billing/")
    student_page = client_for(school_a.student, school_a.host).get("/me/plan/")
    checkout = client_for(school_a.owner, school_a.host).post(
        "/manage/billing/checkout/", {"lookup_key": "practika_school_seat_monthly"}, follow=True
    )

    assert page.status_code == 200 and student_page.status_code == 200
    assert "Billing is not configured" in page.content.decode()
    assert page.context["entitlements"].plan == plans.FREE
    assert "not configured" in checkout.content.decode()


def test_students_and_teachers_cannot_open_the_billing_page(school_a):
    assert client_for(school_a.student, school_a.host).get("/manage/billing/").status_code == 403
    assert client_for(school_a.teacher, school_a.host).get("/manage/billing/").status_code == 403


def test_the_catalogue_command_needs_stripe(db, settings):
    settings.STRIPE_SECRET_KEY = ""
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sync_stripe_catalogue")
