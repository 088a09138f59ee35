"""Invoices from Stripe webhooks (a payment restores access, a failure starts the grace
period), and the next invoice's preview shown on the billing page."""

from __future__ import annotations

import logging

from django.utils import timezone

from billing.errors import StripeFailed
from billing.integrations import stripe as stripe_api
from billing.models import Invoice, Subscription
from billing.services.sync import email_past_due_on_commit, record_change, set_past_due, ts

logger = logging.getLogger(__name__)


def _invoice_subscription_id(data: dict) -> str:
    if data.get("subscription"):
        sub = data["subscription"]
        return sub if isinstance(sub, str) else sub.get("id", "")
    # Newer API versions moved it under `parent`.
    details = (data.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or ""


def _invoice_apply(data: dict, version: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update().filter(stripe_invoice_id=data["id"]).first()
        or Invoice(stripe_invoice_id=data["id"])
    )
    if invoice.pk and version < invoice.stripe_version:
        return invoice
    invoice.stripe_customer_id = data.get("customer") or ""
    invoice.subscription = Subscription.objects.filter(
        stripe_subscription_id=_invoice_subscription_id(data) or None
    ).first()
    invoice.number = data.get("number") or ""
    invoice.status = data.get("status") or "open"
    invoice.amount_due = int(data.get("amount_due") or 0)
    invoice.amount_paid = int(data.get("amount_paid") or 0)
    invoice.currency = data.get("currency") or "usd"
    invoice.hosted_invoice_url = data.get("hosted_invoice_url") or ""
    invoice.issued_at = ts(data.get("created"))
    invoice.stripe_version = version
    invoice.save()
    return invoice


def _invoiced_subscription(data: dict, version: int) -> Subscription | None:
    """Store the invoice; its subscription, locked, if Practika knows it."""
    subscription = _invoice_apply(data, version).subscription
    if subscription is None:
        return None
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def _save_status(subscription: Subscription, version: int) -> None:
    subscription.stripe_version = version
    subscription.save(update_fields=["status", "past_due_since", "stripe_version", "updated_at"])
    record_change(subscription, ts(version) or timezone.now())


def on_invoice_paid(data: dict, version: int) -> None:
    """A paid invoice restores an overdue subscription at once."""
    subscription = _invoiced_subscription(data, version)
    overdue = (Subscription.Status.PAST_DUE, Subscription.Status.UNPAID)
    # A newer state than this payment (stored later) is kept.
    if subscription and subscription.status in overdue and version >= subscription.stripe_version:
        subscription.status = Subscription.Status.ACTIVE
        subscription.past_due_since = None
        _save_status(subscription, version)


def on_invoice_payment_failed(data: dict, version: int) -> None:
    """A failed payment starts the grace period of a live subscription and tells the payer."""
    subscription = _invoiced_subscription(data, version)
    live = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING)
    if subscription and subscription.status in live and version >= subscription.stripe_version:
        subscription.status = Subscription.Status.PAST_DUE
        set_past_due(subscription, ts(version), was_past_due=False)
        _save_status(subscription, version)
        email_past_due_on_commit(subscription)


def invoice_preview(*, subscription: Subscription | None) -> dict | None:
    """The next invoice's total and date from Stripe, or None (offline, manual, or an error)."""
    if (
        subscription is None
        or subscription.source != Subscription.Source.STRIPE
        or not stripe_api.is_configured()
    ):
        return None
    try:
        preview = stripe_api.invoice_preview(
            customer_id=subscription.stripe_customer_id,
            subscription_id=subscription.stripe_subscription_id,
        )
    except StripeFailed:
        logger.warning("invoice preview failed for %s", subscription.stripe_subscription_id)
        return None
    return {
        "amount_due": preview.get("amount_due") or 0,
        "total": preview.get("total") or 0,
        "currency": preview.get("currency") or "usd",
        "date": ts(preview.get("next_payment_attempt") or preview.get("period_end")),
    }

