"""Background work of billing: webhook events and seat counts.

Tasks take ids, are safe to run twice (the services check what is already done), acknowledge
late so a lost worker hands the message to another, and retry only transient Stripe errors
(StripeUnavailable).
"""

from __future__ import annotations

from celery import shared_task

from billing import services
from billing.errors import StripeUnavailable

# Every billing task calls Stripe: late acknowledgement, retries with backoff on transient
# Stripe errors only, and time limits well above one call's (with the SDK's own retries).
STRIPE_TASK = {
    "acks_late": True,
    "autoretry_for": (StripeUnavailable,),
    "retry_backoff": True,
    "max_retries": 8,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(**STRIPE_TASK)
def process_stripe_event(event_id: int) -> bool:
    try:
        return services.event_process(event_id=event_id)
    except Exception as error:
        services.event_record_failure(event_id=event_id, error=repr(error))
        raise


@shared_task(**STRIPE_TASK)
def sync_seats(tenant_id: int) -> int | None:
    return services.seats_sync(tenant_id=tenant_id)
