# ruff: noqa: F811 (the Stripe stand-in fixture, imported from billing's conftest, is a parameter)
"""A tenant's deletion, end to end, against real storage (a folder, and moto's S3 server with the
real boto3) and the real stripe SDK talking to the local Stripe stand-in: the owner asks with a
typed confirmation, the tenant closes, the grace period runs on an advanced clock, and the beat
task leaves no schema, no stored object under the tenant's prefix and no public row pointing at
it. A restore within the grace period brings everything back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import models
from django.utils import timezone
from django_tenants.utils import schema_exists

from billing.models import BillingCustomer, Invoice, Subscription, SubscriptionChange, WebhookEvent
from tenants import hosts, services, tasks
from tenants.errors import DomainError
from tenants.models import AuditEvent, Domain, Invitation, Membership, Role, Tenant, User
from tenants.storage import tenant_storage_prefix
from tests.billing.conftest import stripe_server, subscription_obj  # noqa: F401
from tests.conftest import PASSWORD, client_for, mfa_client_for, token_client_for
from tests.support.deletion import fill, logo_save, tenant_rows

SLUG = "doomed-school"


@pytest.fixture
def doomed(db, school_a, stripe_server, real_storage, tmp_path):
    """A school with content, stored objects, a logo, an invitation, a Stripe subscription and
    billing history; its teacher also teaches at school A."""
    owner = User.objects.create_user(email="owner@doomed.example.com", password=PASSWORD)
    tenant = services.tenant_create(name="Doomed School", slug=SLUG, kind="school", owner=owner)
    admin = User.objects.create_user(email="admin@doomed.example.com", password=PASSWORD)
    student = User.objects.create_user(email="student@doomed.example.com", password=PASSWORD)
    shared = school_a.teacher  # belongs to another school too: keeps their account
    for user, role in ((admin, Role.ADMIN), (student, Role.STUDENT), (shared, Role.TEACHER)):
        Membership.objects.create(user=user, tenant=tenant, role=role)
    Invitation.objects.create(
        tenant=tenant,
        email="new@doomed.example.com",
        role=Role.STUDENT,
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    content = fill(tenant, teacher=shared, students=[student], tmp_path=tmp_path)
    logo_save(tenant)
    subscription = Subscription.objects.create(
        stripe_subscription_id="sub_doomed",
        stripe_customer_id="cus_doomed",
        stripe_item_id="si_doomed",
        tenant=tenant,
        plan_code="teacher",
        price_lookup_key="practika_teacher_monthly",
        status=Subscription.Status.ACTIVE,
    )
    BillingCustomer.objects.create(stripe_customer_id="cus_doomed", tenant=tenant)
    SubscriptionChange.objects.create(
        subscription=subscription,
        status="active",
        plan_code="teacher",
        quantity=1,
        mrr_cents=999,
        at=timezone.now(),
    )
    Invoice.objects.create(
        stripe_invoice_id="in_doomed",
        stripe_customer_id="cus_doomed",
        subscription=subscription,
        status="paid",
        amount_paid=999,
    )
    WebhookEvent.objects.create(
        stripe_event_id="evt_doomed",
        type="customer.subscription.updated",
        stripe_created=1,
        payload={
            "data": {
                "object": {
                    "customer": "cus_doomed",
                    "metadata": {"practika_tenant": str(tenant.public_id)},
                }
            }
        },
    )
    stripe_server.subscriptions["sub_doomed"] = subscription_obj(
        "sub_doomed", tenant=tenant, customer="cus_doomed"
    )
    tenant.refresh_from_db()
    return type(
        "Doomed",
        (),
        {
            "tenant": tenant,
            "owner": owner,
            "admin": admin,
            "student": student,
            "shared": shared,
            "content": content,
            "host": hosts.tenant_hostname(SLUG),
        },
    )


def _request_deletion(doomed, captured) -> Tenant:
    with captured(execute=True):
        response = client_for(doomed.owner, doomed.host).post(
            "/manage/deletion/", {"action": "request", "confirmation": SLUG}
        )
    assert response.status_code == 302, response.content
    doomed.tenant.refresh_from_db()
    return doomed.tenant


def _at(monkeypatch, moment):
    """Every `timezone.now()` reads `moment` from here on (the beat task's clock included)."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _rows_pointing_at(tenant_pk: int) -> dict[str, int]:
    """Every public-schema row with a foreign key to this tenant, by model and field."""
    found = {}
    for model in apps.get_models():
        if apps.get_app_config(model._meta.app_label).name not in settings.SHARED_APPS:
            continue
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey)
                and field.related_model is Tenant
                and (count := model._base_manager.filter(**{field.attname: tenant_pk}).count())
            ):
                found[f"{model._meta.label}.{field.name}"] = count
    return found


def _everything_there(doomed, real_storage) -> None:
    tenant = doomed.tenant
    assert schema_exists(tenant.schema_name)
    assert tenant_rows(tenant) == {"replies": 1, "comments": 2, "media": 2, "classes": 0}
    keys = real_storage.keys(tenant_storage_prefix(tenant))
    assert set(doomed.content.keys) <= set(keys) and any("branding/" in key for key in keys)
    assert Membership.objects.filter(tenant=tenant).count() == 4
    assert Subscription.objects.filter(tenant=tenant).exists()
    assert User.objects.filter(email="student@doomed.example.com").exists()


def test_owner_schedules_the_deletion_and_the_tenant_closes(
    doomed,
    real_storage,
    django_capture_on_commit_callbacks,
):
    tenant = _request_deletion(doomed, django_capture_on_commit_callbacks)
    assert tenant.is_closing
    assert tenant.deletion_due_at - tenant.deletion_requested_at == timedelta(days=30)
    assert [m.to for m in mail.outbox] == [["owner@doomed.example.com"]]
    assert "/manage/deletion/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(tenant=tenant, action="tenant.deletion_requested").exists()
    # Members see the closing notice on every page, and the API is closed to them.
    pages = (
        (doomed.student, "/"),
        (doomed.shared, "/teach/exercises/"),
        (doomed.admin, "/manage/members/"),
    )
    for user, path in pages:
        page = client_for(user, doomed.host).get(path)
        assert page.status_code == 403 and "is being deleted" in page.content.decode()
        assert "Cancel the deletion" not in page.content.decode()
    api = token_client_for(doomed.student, doomed.host).get("/api/v1/tenant/")
    assert api.status_code == 403 and "scheduled for deletion" in api.json()["message"]
    # Signed upload and playback links stop working too.
    assert client_for(None, doomed.host).get("/media-signed/not-a-token/").status_code == 403
    # The owner sees the notice with a way back, and the deletion page.
    owner = client_for(doomed.owner, doomed.host)
    assert "Cancel the deletion" in owner.get("/").content.decode()
    assert owner.get("/manage/deletion/").status_code == 200
    # Nothing is deleted yet.
    _everything_there(doomed, real_storage)


def test_only_an_owner_asks_and_only_with_the_typed_name(doomed):
    admin = client_for(doomed.admin, doomed.host)
    assert admin.post("/manage/deletion/", {"confirmation": SLUG}).status_code == 403
    api = token_client_for(doomed.admin, doomed.host).post(
        "/api/v1/tenant/deletion/", {"confirmation": SLUG}, content_type="application/json"
    )
    assert api.status_code == 403
    owner_api = token_client_for(doomed.owner, doomed.host)
    wrong = owner_api.post(
        "/api/v1/tenant/deletion/", {"confirmation": "doomed"}, content_type="application/json"
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "confirmation_mismatch"
    missing = owner_api.post("/api/v1/tenant/deletion/", {}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    doomed.tenant.refresh_from_db()
    assert not doomed.tenant.is_closing
    # Another tenant's owner on this host is no member here.
    other = client_for(User.objects.get(email="owner@school-a.example.com"), doomed.host)
    assert other.post("/manage/deletion/", {"confirmation": SLUG}).status_code == 403
    doomed.tenant.refresh_from_db()
    assert not doomed.tenant.is_closing


def test_the_owner_cancels_through_the_api_and_the_tenant_reopens(doomed):
    api = token_client_for(doomed.owner, doomed.host)
    asked = api.post(
        "/api/v1/tenant/deletion/", {"confirmation": SLUG.upper()}, content_type="application/json"
    )
    assert asked.status_code == 202 and asked.json()["scheduled"] is True
    assert api.get("/api/v1/tenant/deletion/").json()["due_at"] is not None
    cancelled = api.delete("/api/v1/tenant/deletion/")
    assert cancelled.status_code == 200 and cancelled.json() == {
        "scheduled": False,
        "requested_at": None,
        "due_at": None,
    }
    assert client_for(doomed.student, doomed.host).get("/").status_code == 200
    assert AuditEvent.objects.filter(
        tenant=doomed.tenant, action="tenant.deletion_cancelled", actor=doomed.owner
    ).exists()


def test_past_the_date_neither_owner_nor_staff_can_stop_it(
    doomed, monkeypatch, django_capture_on_commit_callbacks
):
    tenant = _request_deletion(doomed, django_capture_on_commit_callbacks)
    staff = User.objects.create_user(email="ops@practika.example", is_staff=True)
    _at(monkeypatch, tenant.deletion_due_at + timedelta(seconds=1))
    for call in (
        lambda: services.tenant_restore(tenant=tenant, actor=staff, reason="late"),
        lambda: services.tenant_deletion_cancel(tenant=tenant, actor=doomed.owner),
    ):
        with pytest.raises(DomainError) as raised:
            call()
        assert raised.value.code == "deletion_under_way"


def test_after_the_grace_period_nothing_of_the_tenant_is_left(
    doomed,
    real_storage,
    stripe_server,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    tenant = _request_deletion(doomed, django_capture_on_commit_callbacks)
    public_id, pk, schema = str(tenant.public_id), tenant.pk, tenant.schema_name
    prefix = tenant_storage_prefix(tenant)
    # A recording still uploading when it closed.
    from django_tenants.utils import tenant_context

    from learning import storage

    with tenant_context(tenant):
        storage.multipart_start(key=f"{prefix}media/unfinished/source", content_type="video/mp4")

    # A minute before the end of the grace period, the beat task leaves it alone.
    _at(monkeypatch, tenant.deletion_due_at - timedelta(minutes=1))
    assert tasks.deletions_purge() == {"purged": 0, "failed": 0}
    _everything_there(doomed, real_storage)

    mail.outbox.clear()
    _at(monkeypatch, tenant.deletion_due_at + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.deletions_purge() == {"purged": 1, "failed": 0}

    assert not schema_exists(schema)
    assert real_storage.keys(prefix) == []
    assert _rows_pointing_at(pk) == {}
    assert not Tenant.objects.filter(pk=pk).exists()
    assert not Domain.objects.filter(domain=doomed.host).exists()
    assert not WebhookEvent.objects.filter(stripe_event_id="evt_doomed").exists()
    assert not Invoice.objects.filter(stripe_invoice_id="in_doomed").exists()
    assert not BillingCustomer.objects.filter(stripe_customer_id="cus_doomed").exists()
    # Stripe was told, with the real SDK: the subscription is cancelled.
    assert [r.path for r in stripe_server.calls("DELETE", "/v1/subscriptions/")] == [
        "/v1/subscriptions/sub_doomed"
    ]
    # Accounts that belonged to this school alone are gone; the shared teacher's stays.
    assert not User.objects.filter(email__endswith="@doomed.example.com").exists()
    assert User.objects.filter(pk=doomed.shared.pk).exists()
    # Kept: the record of the deletion, detached and without names.
    kept = AuditEvent.objects.filter(data__tenant_public_id=public_id)
    assert sorted(kept.values_list("action", flat=True)) == [
        "tenant.deletion_requested",
        "tenant.purged",
    ]
    assert all(event.tenant_id is None for event in kept)
    purged = kept.get(action="tenant.purged")
    assert purged.data["counts"]["stripe_subscriptions_cancelled"] == 1
    assert purged.data["counts"]["accounts"] == 4 - 1  # owner, admin, student
    assert "Doomed" not in str(purged.data)
    # The receipt went to the owner.
    assert [m.to for m in mail.outbox] == [["owner@doomed.example.com"]]
    assert "Doomed School was deleted" in mail.outbox[0].body
    # The host no longer routes anywhere.
    assert client_for(None, doomed.host).get("/").status_code == 404
    # And running the beat again finds nothing to do.
    assert tasks.deletions_purge() == {"purged": 0, "failed": 0}


def test_staff_restore_within_the_grace_period_brings_everything_back(
    doomed,
    real_storage,
    public_host,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    tenant = _request_deletion(doomed, django_capture_on_commit_callbacks)
    due = tenant.deletion_due_at
    staff = User.objects.create_user(email="ops@practika.example", password=PASSWORD, is_staff=True)
    staff_client = mfa_client_for(staff, public_host)
    detail = staff_client.get(f"/staff/tenants/{tenant.public_id}/")
    assert "Deletion scheduled" in detail.content.decode()
    # A reason is required; without one nothing changes.
    staff_client.post(f"/staff/tenants/{tenant.public_id}/restore/", {"reason": ""})
    tenant.refresh_from_db()
    assert tenant.is_closing
    # The owner cannot restore through the staff area.
    owner_on_public = client_for(doomed.owner, public_host)
    assert (
        owner_on_public.post(
            f"/staff/tenants/{tenant.public_id}/restore/", {"reason": "please"}
        ).status_code
        == 403
    )

    _at(monkeypatch, due - timedelta(days=1))
    response = staff_client.post(
        f"/staff/tenants/{tenant.public_id}/restore/", {"reason": "Owner asked support"}
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert not tenant.is_closing
    event = AuditEvent.objects.get(tenant=tenant, action="tenant.restored")
    assert event.actor == staff and event.data["reason"] == "Owner asked support"

    # Past the original date the beat task finds nothing to purge.
    _at(monkeypatch, due + timedelta(days=1))
    assert tasks.deletions_purge() == {"purged": 0, "failed": 0}
    _everything_there(doomed, real_storage)
    assert client_for(doomed.student, doomed.host).get("/").status_code == 200
    page = client_for(doomed.shared, doomed.host).get(f"/replies/{_reply_public_id(tenant)}/")
    assert page.status_code == 200


def _reply_public_id(tenant):
    from django_tenants.utils import tenant_context

    from learning.models import Reply

    with tenant_context(tenant):
        return Reply.objects.get().public_id


def test_the_beat_entries_name_registered_tasks():
    from config.celery_app import app

    app.loader.import_default_modules()  # what a worker does at start-up
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"tenants.deletions_purge", "learning.replies_retention_all"} <= scheduled
    assert scheduled <= set(app.tasks)
