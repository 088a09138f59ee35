"""Billing's part of deleting data (tenants.services.deletion calls it through
`PRACTIKA_DATA_DELETION_HOOKS`).

A purged tenant's Stripe subscriptions are cancelled at once (no proration: the grace period is
the notice) and billing's copies of its customer, subscriptions, history, invoices and webhook
events are deleted. The Stripe customer and its invoices are left in Stripe: they are the
accounting record a business must keep, and Stripe is where it is kept.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from billing.integrations import stripe as stripe_api
from billing.models import BillingCustomer, Invoice, Subscription, WebhookEvent

# Statuses after which Stripe has nothing left to cancel.
_ENDED = frozenset({Subscription.Status.CANCELED, Subscription.Status.INCOMPLETE_EXPIRED})


def tenant_purge(*, tenant) -> dict[str, int]:
    """Cancel `tenant`'s live Stripe subscriptions, then delete billing's rows about it. Safe to
    run again: a subscription Stripe no longer knows counts as cancelled."""
    subscriptions = list(Subscription.objects.filter(tenant=tenant))
    cancelled = 0
    for subscription in subscriptions:
        if (
            subscription.source == Subscription.Source.STRIPE
            and subscription.stripe_subscription_id
            and subscription.status not in _ENDED
        ):
            stripe_api.subscription_cancel(subscription.stripe_subscription_id)
            cancelled += 1
    customer_ids = {s.stripe_customer_id for s in subscriptions if s.stripe_customer_id}
    customer_ids |= set(
        BillingCustomer.objects.filter(tenant=tenant).values_list("stripe_customer_id", flat=True)
    )
    with transaction.atomic():
        invoices = Invoice.objects.filter(
            Q(subscription__tenant=tenant) | Q(stripe_customer_id__in=customer_ids)
        ).delete()[0]
        events = WebhookEvent.objects.filter(
            Q(payload__data__object__metadata__practika_tenant=str(tenant.public_id))
            | Q(payload__data__object__customer__in=list(customer_ids))
        ).delete()[0]
        # Deleting a subscription deletes its history (SubscriptionChange) with it.
        rows = Subscription.objects.filter(tenant=tenant).delete()[0]
        customers = BillingCustomer.objects.filter(tenant=tenant).delete()[0]
    return {
        "stripe_subscriptions_cancelled": cancelled,
        "billing_rows": rows + customers,
        "invoices": invoices,
        "webhook_events": events,
    }


def account_kept(*, user) -> str:
    """A person's own subscription (the Student plan) keeps their account: deleting it would
    leave Stripe charging someone Practika no longer knows."""
    live = Subscription.objects.filter(user=user).exclude(status__in=_ENDED).exists()
    return "has a personal subscription" if live else ""
