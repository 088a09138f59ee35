"""Subscriptions from Stripe: storing a subscription object, linking customers to their owners,
the grace period of a failed payment, and the history of changes the staff figures read.

Stale states lose: each stored object keeps the version (the event's time) it was seen at.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import chrome as billing_chrome
from billing import plans
from billing.integrations import stripe as stripe_api
from billing.models import BillingCustomer, Subscription, SubscriptionChange
from billing.services import emails
from tenants.models import Tenant, User

logger = logging.getLogger(__name__)


def ts(seconds: int | None) -> datetime | None:
    """A Stripe timestamp (seconds) as an aware datetime; None for none."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def now_version() -> int:
    """The version of a state read from Stripe now (rather than carried by an event)."""
    return int(time.time())


def owner_from_metadata(metadata: dict | None) -> tuple[Tenant | None, User | None]:
    """The tenant or the person a Stripe object's metadata names (ours, set at checkout)."""
    metadata = metadata or {}
    tenant = user = None
    if metadata.get("practika_tenant"):
        tenant = Tenant.objects.filter(public_id=metadata["practika_tenant"]).first()
    elif metadata.get("practika_user"):
        user = User.objects.filter(public_id=metadata["practika_user"]).first()
    return tenant, user


def link_customer(*, customer_id: str, tenant: Tenant | None, user: User | None) -> None:
    """Remember whose Stripe customer this is, and give them its orphan subscriptions."""
    if not customer_id or (tenant is None and user is None):
        return
    owner = {"tenant": tenant} if tenant is not None else {"user": user}
    existing = BillingCustomer.objects.filter(**owner).first()
    if existing is None:
        try:
            with transaction.atomic():
                BillingCustomer.objects.create(stripe_customer_id=customer_id, **owner)
        except IntegrityError:  # the customer is already someone's; keep the first owner
            logger.warning("stripe customer %s already linked", customer_id)
    elif existing.stripe_customer_id != customer_id:
        # A newer checkout made a new customer: the portal should open the live one.
        existing.stripe_customer_id = customer_id
        existing.save(update_fields=["stripe_customer_id", "updated_at"])
    Subscription.objects.filter(
        stripe_customer_id=customer_id, tenant__isnull=True, user__isnull=True
    ).update(**owner)
    billing_chrome.forget(tenant_id=owner["tenant"].pk if owner.get("tenant") else None)


def _subscription_fields(data: dict) -> dict:
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or data.get("plan") or {}
    match = plans.plan_for_lookup_key(price.get("lookup_key"))
    metadata = data.get("metadata") or {}
    plan_code = match[0].code if match else metadata.get("practika_plan", plans.FREE.code)
    status = data.get("status") or Subscription.Status.INCOMPLETE
    customer = data.get("customer") or ""
    return {
        "stripe_customer_id": customer if isinstance(customer, str) else customer.get("id", ""),
        "stripe_item_id": item.get("id") or "",
        "plan_code": plan_code if plan_code in plans.PLANS else plans.FREE.code,
        "price_lookup_key": price.get("lookup_key") or "",
        "status": status,
        "quantity": int(item.get("quantity") or data.get("quantity") or 1),
        "unit_amount": int(price.get("unit_amount") or 0),
        "interval": (price.get("recurring") or {}).get("interval") or "month",
        "currency": price.get("currency") or "usd",
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
        "started_at": ts(data.get("start_date") or data.get("created")),
        "current_period_end": ts(item.get("current_period_end") or data.get("current_period_end")),
        "trial_end": ts(data.get("trial_end")),
        "canceled_at": (
            ts(data.get("ended_at") or data.get("canceled_at"))
            if status == Subscription.Status.CANCELED else None
        ),
    }


def record_change(subscription: Subscription, at: datetime) -> None:
    last = subscription.changes.order_by("-at", "-pk").first()
    state = (subscription.status, subscription.plan_code, subscription.quantity)
    if last is not None and (last.status, last.plan_code, last.quantity) == state:
        return
    SubscriptionChange.objects.create(
        subscription=subscription, status=subscription.status, plan_code=subscription.plan_code,
        quantity=subscription.quantity, mrr_cents=subscription.mrr_cents, at=at,
    )


@transaction.atomic
def subscription_apply(*, data: dict, version: int) -> Subscription:
    """Store a Stripe subscription object seen at `version` (the event's or read's time).

    Stale states lose: an event older than what is stored changes nothing, and a canceled
    subscription stays canceled (Stripe never revives one). On a tie with Stripe configured,
    the subscription is read again, since two events of the same second have no order.
    """
    stripe_id = data["id"]
    subscription = (
        Subscription.objects.select_for_update().filter(stripe_subscription_id=stripe_id).first()
    )
    if subscription is not None:
        if subscription.status == Subscription.Status.CANCELED:
            return subscription
        if version < subscription.stripe_version:
            return subscription
        if version == subscription.stripe_version and stripe_api.is_configured():
            data = stripe_api.subscription_get(stripe_id)
    else:
        subscription = Subscription(stripe_subscription_id=stripe_id)
    was_past_due = subscription.status == Subscription.Status.PAST_DUE
    before = None if subscription.pk is None else _audited_state(subscription)
    for name, value in _subscription_fields(data).items():
        setattr(subscription, name, value)
    subscription.stripe_version = version
    if subscription.tenant_id is None and subscription.user_id is None:
        tenant, user = owner_from_metadata(data.get("metadata"))
        if tenant is None and user is None:
            customer = BillingCustomer.objects.filter(
                stripe_customer_id=subscription.stripe_customer_id
            ).first()
            if customer is not None:
                tenant, user = customer.tenant, customer.user
        subscription.tenant, subscription.user = tenant, user
        link_customer(customer_id=subscription.stripe_customer_id, tenant=tenant, user=user)
    newly_past_due = set_past_due(subscription, ts(version), was_past_due=was_past_due)
    subscription.save()
    if newly_past_due:
        email_past_due_on_commit(subscription)
    record_change(subscription, ts(version) or timezone.now())
    _audit_change(subscription, before)
    return subscription


def _audited_state(subscription: Subscription) -> tuple[str, str, int]:
    return (subscription.status, subscription.plan_code, subscription.quantity)


def _audit_change(subscription: Subscription, before: tuple[str, str, int] | None) -> None:
    """A school's plan changes go to its audit log, in the transaction that stores them (the
    actor is Stripe, so none; the person who paid started it with `billing.checkout_started`)."""
    if subscription.tenant_id is None:
        return
    after = _audited_state(subscription)
    if before == after:
        return
    if before is None:
        action = "subscription.created"
    elif subscription.status == Subscription.Status.CANCELED:
        action = "subscription.cancelled"
    else:
        action = "subscription.changed"
    from tenants.services import audit

    audit(
        actor=None, tenant=subscription.tenant, action=action, plan=subscription.plan_code,
        status=subscription.status, quantity=subscription.quantity,
        **({} if before is None else {"previous": dict(zip(
            ("status", "plan", "quantity"), before, strict=True
        ))}),
    )


def set_past_due(subscription: Subscription, at: datetime | None, *, was_past_due: bool) -> bool:
    """Start (or end) the grace period; True when it has just started (email the payer)."""
    if subscription.status != Subscription.Status.PAST_DUE:
        subscription.past_due_since = None
        return False
    if not was_past_due or subscription.past_due_since is None:
        subscription.past_due_since = at or timezone.now()
        return True
    return False



def email_past_due_on_commit(subscription: Subscription) -> None:
    """Tell the payer their payment failed, once the transaction that noticed it commits."""
    subscription_pk = subscription.pk
    transaction.on_commit(lambda: emails.email_past_due(subscription_pk))
