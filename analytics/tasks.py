"""Background work of analytics. Periodic entries (Celery beat) queue one task per tenant
inside its schema (tenant-schemas-celery carries the schema); every task takes ids, is safe to
run twice, has an explicit name (settings route and schedule by it) and follows the one retry
policy of learning.retries (acknowledged when done, transient failures retried)."""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from analytics import digests, notifications, product_analytics, rollups
from learning.retries import RETRY_POLICY

logger = logging.getLogger(__name__)


def _for_each_tenant(task) -> int:
    count = 0
    tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
    for tenant in tenants.filter(status="active").only("pk", "schema_name", "public_id"):
        with tenant_context(tenant):
            task.delay()
        count += 1
    return count


@shared_task(
    name="analytics.notification_emails_send", soft_time_limit=60, time_limit=90, **RETRY_POLICY
)
def notification_emails_send(notification_ids: list[int]) -> int:
    """Send the emails of these notifications (each at most once; see notifications)."""
    return notifications.emails_send(notification_ids=notification_ids)


@shared_task(
    name="analytics.rollups_rebuild", soft_time_limit=20 * 60, time_limit=21 * 60, **RETRY_POLICY
)
def rollups_rebuild() -> int:
    """Recompute this tenant's rollups from its activity events."""
    return rollups.rebuild()


@shared_task(
    name="analytics.rollups_rebuild_all", soft_time_limit=60, time_limit=90, **RETRY_POLICY
)
def rollups_rebuild_all() -> int:
    """Beat: rebuild every tenant's rollups (repairs whatever the incremental path missed)."""
    return _for_each_tenant(rollups_rebuild)


@shared_task(
    name="analytics.due_reminders_send", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRY_POLICY
)
def due_reminders_send() -> int:
    """Remind this tenant's students of exercises due within a day that they have not done."""
    return digests.due_reminders_send()


@shared_task(
    name="analytics.due_reminders_all", soft_time_limit=60, time_limit=90, **RETRY_POLICY
)
def due_reminders_all() -> int:
    return _for_each_tenant(due_reminders_send)


@shared_task(
    name="analytics.weekly_digest_send", soft_time_limit=10 * 60, time_limit=11 * 60, **RETRY_POLICY
)
def weekly_digest_send() -> int:
    """Email this tenant's members a summary of last week."""
    return digests.weekly_digest_send()


@shared_task(
    name="analytics.weekly_digest_all", soft_time_limit=60, time_limit=90, **RETRY_POLICY
)
def weekly_digest_all() -> int:
    return _for_each_tenant(weekly_digest_send)


@shared_task(
    name="analytics.product_analytics_sync", soft_time_limit=5 * 60, time_limit=6 * 60,
    **RETRY_POLICY,
)
def product_analytics_sync() -> int:
    """Beat: tell PostHog of sign-ups, new tenants and plan changes (public-schema facts)."""
    return product_analytics.public_events_capture()
