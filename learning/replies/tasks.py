"""Background work of replies: the school's retention (learning.replies.retention). The beat
entry queues one task per tenant that keeps replies for a limited time, inside its schema; each
follows the one retry policy (learning.retries)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from learning.replies import retention
from learning.retries import RETRY_POLICY

logger = logging.getLogger(__name__)


@shared_task(
    name="learning.replies_retention_all", soft_time_limit=60, time_limit=90, **RETRY_POLICY
)
def replies_retention_all() -> int:
    """Beat: queue the retention of every tenant that has one (not those being deleted)."""
    count = 0
    tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
    for tenant in tenants.filter(reply_retention_days__isnull=False, deletion_due_at=None).only(
        "pk", "schema_name", "public_id"
    ):
        with tenant_context(tenant):
            replies_retention.delay()
        count += 1
    return count


@shared_task(
    name="learning.replies_retention",
    soft_time_limit=20 * 60,
    time_limit=21 * 60,
    **RETRY_POLICY,
)
def replies_retention() -> dict[str, int]:
    """Delete the current tenant's expired replies (see retention.replies_expire)."""
    if connection.schema_name == get_public_schema_name():
        logger.error("replies_retention must be queued inside a tenant")
        return {}
    result = retention.replies_expire()
    return {"replies": result.replies, "comments": result.comments, "recordings": result.recordings}
