"""Stripe webhooks through the HTTP endpoint: signatures, duplicates, late and out-of-order
events, and the failed-payment path."""

from __future__ import annotations

import time
import uuid

from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import BillingCustomer, Subscription, SubscriptionChange, WebhookEvent
from tests.billing.conftest import deliver, event, signed, subscription_obj

T0 = 1_750_000_000


def test_a_forged_signature_gets_400_and_stores_nothing(db, webhook_secret, eager_tasks):
    evt = event("customer.subscription.created", subscription_obj("sub_forged"), created=T0)

    forged = deliver(evt, secret="whsec_someone_else")
    unsigned = _post_raw(evt, header=None)
    stale = deliver(evt, timestamp=int(time.time()) - 3600)

    assert [forged.status_code, unsigned.status_code, stale.status_code] == [400, 400, 400]
    assert not WebhookEvent.objects.exists()
    assert not Subscription.objects.filter(stripe_subscription_id="sub_forged").exists()


def test_a_tampered_body_fails_verification(db, webhook_secret):
    evt = event("customer.subscription.created", subscription_obj("sub_t"), created=T0)
    payload, header = signed(evt)
    from django.test import Client

    response = Client(HTTP_HOST="practika.test").post(
        "/billing/stripe/webhook/", data=payload.replace('"active"', '"canceled"'),
        content_type="application/json", HTTP_STRIPE_SIGNATURE=header,
    )

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def _post_raw(evt, header):
    import json

    from django.test import Client

    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return Client(HTTP_HOST="practika.test").post(
        "/billing/stripe/webhook/", data=json.dumps(evt), content_type="application/json", **extra
    )


def test_a_duplicate_event_is_processed_once(
    school_a, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    evt = event(
        "customer.subscription.created",
        subscription_obj("sub_dup", tenant=school_a.tenant, status="active"),
        created=T0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(evt)
    with django_capture_on_commit_callbacks(execute=True):
        second = deliver(evt)

    assert first.status_code == second.status_code == 200
    assert second.json()["duplicate"] is True
    stored = WebhookEvent.objects.get(stripe_event_id=evt["id"])
    assert stored.attempts == 1 and stored.processed_at is not None
    subscription = Subscription.objects.get(stripe_subscription_id="sub_dup")
    assert subscription.tenant == school_a.tenant
    assert SubscriptionChange.objects.filter(subscription=subscription).count() == 1


def test_an_update_before_its_created_event_ends_in_the_updated_state(
    school_a, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    created = event(
        "customer.subscription.created",
        subscription_obj("sub_ooo", tenant=school_a.tenant, status="trialing", quantity=1),
        created=T0,
    )
    updated = event(
        "customer.subscription.updated",
        subscription_obj("sub_ooo", tenant=school_a.tenant, status="active", quantity=3),
        created=T0 + 60,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(updated).status_code == 200
        assert deliver(created).status_code == 200

    subscription = Subscription.objects.get(stripe_subscription_id="sub_ooo")
    assert (subscription.status, subscription.quantity) == ("active", 3)
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_an_older_update_after_a_newer_one_changes_nothing(
    school_a, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    newer = event(
        "customer.subscription.updated",
        subscription_obj("sub_old", tenant=school_a.tenant, status="past_due"),
        created=T0 + 120,
    )
    older = event(
        "customer.subscription.updated",
        subscription_obj("sub_old", tenant=school_a.tenant, status="active"),
        created=T0 + 60,
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(newer)
        deliver(older)

    assert Subscription.objects.get(stripe_subscription_id="sub_old").status == "past_due"


def test_unknown_events_are_stored_and_acknowledged(db, webhook_secret, eager_tasks,
                                                    django_capture_on_commit_callbacks):
    evt = event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}, created=T0)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(evt)

    assert response.status_code == 200
    stored = WebhookEvent.objects.get(stripe_event_id=evt["id"])
    assert stored.type == "customer.tax_id.created" and stored.processed_at is not None


def test_checkout_completed_links_the_customer_to_the_tenant(
    school_a, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    orphan = event(
        "customer.subscription.created",
        {**subscription_obj("sub_link", customer="cus_link"), "metadata": {}},
        created=T0,
    )
    session = {
        "id": "cs_1", "object": "checkout.session", "customer": "cus_link",
        "subscription": "sub_link", "client_reference_id": str(school_a.tenant.public_id),
        "metadata": {"practika_tenant": str(school_a.tenant.public_id)}, "status": "complete",
    }

    with django_capture_on_commit_callbacks(execute=True):
        deliver(orphan)
        deliver(event("checkout.session.completed", session, created=T0 + 1))

    assert BillingCustomer.objects.get(stripe_customer_id="cus_link").tenant == school_a.tenant
    assert Subscription.objects.get(stripe_subscription_id="sub_link").tenant == school_a.tenant


def test_a_failed_payment_marks_past_due_and_emails_the_owner_and_paying_restores(
    school_a, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    sub = subscription_obj(
        "sub_pay", tenant=school_a.tenant, lookup_key="practika_school_seat_monthly", quantity=2
    )
    invoice = {"id": "in_1", "object": "invoice", "customer": "cus_test",
               "subscription": "sub_pay", "amount_due": 1000, "amount_paid": 0,
               "status": "open", "created": T0 + 10, "number": "PRK-0001"}

    with django_capture_on_commit_callbacks(execute=True):
        deliver(event("customer.subscription.created", sub, created=T0))
        deliver(event("invoice.payment_failed", invoice, created=T0 + 10))

    subscription = Subscription.objects.get(stripe_subscription_id="sub_pay")
    assert subscription.status == "past_due" and subscription.past_due_since is not None
    assert [m.to for m in mail.outbox] == [[school_a.owner.email]]
    assert "payment failed" in mail.outbox[0].subject.lower()

    paid = {**invoice, "status": "paid", "amount_paid": 1000}
    with django_capture_on_commit_callbacks(execute=True):
        deliver(event("invoice.paid", paid, created=T0 + 20))

    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.past_due_since is None


# --- Property: any order, any duplicates, the last state wins --------------------------------

STATES = st.tuples(
    st.sampled_from(["trialing", "active", "past_due", "unpaid"]),
    st.integers(min_value=1, max_value=40),
)


@settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(STATES, min_size=1, max_size=6),
    ends_canceled=st.booleans(),
    data=st.data(),
)
def test_any_delivery_order_with_duplicates_ends_in_the_last_state(
    school_a, webhook_secret, history, ends_canceled, data
):
    sub_id = f"sub_{uuid.uuid4().hex[:12]}"
    events = [
        event(
            "customer.subscription.created" if i == 0 else "customer.subscription.updated",
            subscription_obj(sub_id, tenant=school_a.tenant, status=status, quantity=quantity,
                             lookup_key="practika_school_seat_monthly"),
            created=T0 + 10 * i,
        )
        for i, (status, quantity) in enumerate(history)
    ]
    if ends_canceled:
        last_quantity = history[-1][1]
        events.append(event(
            "customer.subscription.deleted",
            subscription_obj(sub_id, tenant=school_a.tenant, status="canceled",
                             quantity=last_quantity, canceled_at=T0 + 10 * len(history),
                             lookup_key="practika_school_seat_monthly"),
            created=T0 + 10 * len(history),
        ))
    expected = events[-1]["data"]["object"]
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    deliveries = data.draw(st.permutations(events + duplicates))

    for evt in deliveries:
        payload, header = signed(evt)
        stored, _created = services.webhook_receive(payload=payload.encode(), signature=header)
        services.event_process(event_id=stored.pk)

    subscription = Subscription.objects.get(stripe_subscription_id=sub_id)
    assert subscription.status == expected["status"]
    assert subscription.quantity == expected["items"]["data"][0]["quantity"]
    assert WebhookEvent.objects.filter(payload__data__object__id=sub_id).count() == len(events)
