"""A school's seats: its Stripe subscription quantity follows its number of students,
updated at most once per debounce window."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import selectors
from billing.integrations import stripe as stripe_api
from billing.models import Subscription
from billing.services.sync import record_change
from tenants.models import Tenant


def _seat_key(tenant_id: int) -> str:
    return f"billing:seat-sync:{tenant_id}"


def seats_sync_schedule(*, tenant: Tenant) -> bool:
    """Queue one seat update per debounce window for a school on a per-seat plan."""
    if not stripe_api.is_configured():
        return False
    subscription = selectors.current_subscription(tenant=tenant)
    if subscription is None or not subscription.plan.per_seat or not subscription.stripe_item_id:
        return False
    window = settings.PRACTIKA_SEAT_SYNC_DEBOUNCE_S
    # Keys carry the schema (django_tenants.cache.make_key): pin it so the task finds it.
    with schema_context("public"):
        if not cache.add(_seat_key(tenant.pk), 1, timeout=window * 10):
            return False
    from billing import tasks

    tenant_pk = tenant.pk
    transaction.on_commit(lambda: tasks.sync_seats.apply_async(args=[tenant_pk], countdown=window))
    return True


@transaction.atomic
def seats_sync(*, tenant_id: int) -> int | None:
    """Set the school's Stripe quantity to its number of students (prorated); the new count."""
    with schema_context("public"):
        cache.delete(_seat_key(tenant_id))  # joins from now on schedule the next update
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not stripe_api.is_configured():
        return None
    subscription = selectors.current_subscription(tenant=tenant)
    if subscription is None or not subscription.plan.per_seat or not subscription.stripe_item_id:
        return None
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    seats = max(1, selectors.student_count(tenant=tenant))
    if seats == subscription.quantity:
        return seats
    stripe_api.subscription_item_set_quantity(
        item_id=subscription.stripe_item_id, quantity=seats, proration="create_prorations"
    )
    subscription.quantity = seats
    subscription.save(update_fields=["quantity", "updated_at"])
    record_change(subscription, timezone.now())
    return seats

