"""Stripe webhooks: verify on the raw body, store once by event id, process asynchronously.

Each handler is safe to run twice and out of order (the stored versions decide).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.integrations import stripe as stripe_api
from billing.models import WebhookEvent
from billing.services import emails
from billing.services.invoices import on_invoice_paid, on_invoice_payment_failed
from billing.services.sync import (
    link_customer,
    now_version,
    owner_from_metadata,
    subscription_apply,
)


def _on_checkout_completed(data: dict, version: int) -> None:
    tenant, user = owner_from_metadata(data.get("metadata"))
    customer = data.get("customer") or ""
    link_customer(customer_id=customer, tenant=tenant, user=user)
    subscription = data.get("subscription")
    if isinstance(subscription, dict):
        subscription_apply(data=subscription, version=version)
    elif subscription and stripe_api.is_configured():
        subscription_apply(data=stripe_api.subscription_get(subscription), version=now_version())


def _on_subscription_event(data: dict, version: int) -> None:
    subscription_apply(data=data, version=version)


def _on_trial_will_end(data: dict, version: int) -> None:
    subscription = subscription_apply(data=data, version=version)
    subscription_pk = subscription.pk
    transaction.on_commit(lambda: emails.email_trial_ending(subscription_pk))


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "customer.subscription.paused": _on_subscription_event,
    "customer.subscription.resumed": _on_subscription_event,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
}


@transaction.atomic
def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify a webhook on its raw body and store it once by id; processing is queued."""
    data = stripe_api.construct_event(
        payload=payload, signature=signature, secret=settings.STRIPE_WEBHOOK_SECRET
    )
    event, created = WebhookEvent.objects.get_or_create(
        stripe_event_id=data["id"],
        defaults={
            "type": data.get("type", ""),
            "stripe_created": int(data.get("created") or 0),
            "livemode": bool(data.get("livemode")),
            "payload": data,
        },
    )
    if event.processed_at is None:
        from billing import tasks

        event_pk = event.pk
        transaction.on_commit(lambda: tasks.process_stripe_event.delay(event_pk))
    return event, created


@transaction.atomic
def event_process(*, event_id: int) -> bool:
    """Apply one stored event, once: False if it had already been processed."""
    event = WebhookEvent.objects.select_for_update().get(pk=event_id)
    if event.processed_at is not None:
        return False
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event.payload["data"]["object"], event.stripe_created)
    event.processed_at = timezone.now()
    event.attempts += 1
    event.error = ""
    event.save(update_fields=["processed_at", "attempts", "error"])
    return True


def event_record_failure(*, event_id: int, error: str) -> None:
    """Note a failed attempt (the event stays unprocessed and is retried)."""
    WebhookEvent.objects.filter(pk=event_id).update(error=error[:2000])


