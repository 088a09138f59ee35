"""A school's plan changes in its audit log: Stripe's subscription events, through the webhook
endpoint, write `subscription.created`, `.changed` and `.cancelled` in the transaction that
stores them; a repeated or stale event writes nothing more."""

from __future__ import annotations

from tenants.models import AuditEvent
from tests.billing.conftest import deliver, event, subscription_obj

T0 = 1_760_000_000


def _plan_events(tenant):
    return list(
        AuditEvent.objects.filter(tenant=tenant, action__startswith="subscription.")
        .order_by("created_at", "id")
        .values_list("action", "actor_id", "data")
    )


def test_subscription_created_changed_and_cancelled_are_audited(
    school_a, school_b, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    seats = "practika_school_seat_monthly"
    created = subscription_obj("sub_audit", tenant=school_a.tenant, lookup_key=seats, quantity=2)
    more_seats = subscription_obj("sub_audit", tenant=school_a.tenant, lookup_key=seats, quantity=5)
    cancelled = subscription_obj(
        "sub_audit",
        tenant=school_a.tenant,
        lookup_key=seats,
        quantity=5,
        status="canceled",
        canceled_at=T0 + 20,
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(event("customer.subscription.created", created, created=T0))
        deliver(event("customer.subscription.updated", more_seats, created=T0 + 10))
        deliver(event("customer.subscription.updated", more_seats, created=T0 + 11))  # no change
        deliver(event("customer.subscription.deleted", cancelled, created=T0 + 20))
        deliver(event("customer.subscription.updated", more_seats, created=T0 + 5))  # stale

    events = _plan_events(school_a.tenant)
    assert [action for action, _, _ in events] == [
        "subscription.created",
        "subscription.changed",
        "subscription.cancelled",
    ]
    assert all(actor is None for _, actor, _ in events)  # Stripe, not a person
    assert events[0][2]["quantity"] == 2 and "previous" not in events[0][2]
    assert events[1][2]["quantity"] == 5 and events[1][2]["previous"]["quantity"] == 2
    assert events[2][2]["status"] == "canceled"
    assert _plan_events(school_b.tenant) == []
