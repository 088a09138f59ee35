"""Background work of exports: writing one export's ZIP (learning.exports.services). Queued
inside the tenant, so it runs in the tenant's schema (tenant-schemas-celery)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from learning.exports import services
from learning.retries import FAILED, RETRY_POLICY, run_recording_failures

logger = logging.getLogger(__name__)

# bench/export.py writes 1 GB in about 10 s from local files; at S3's tens of MB/s a school
# with 100 GB of recordings takes well under the limit. The limit stays below the Redis
# broker's visibility timeout (one hour): a task with acks_late still running after that is
# handed to a second worker.
EXPORT_SOFT_TIME_LIMIT_S = 50 * 60
EXPORT_TIME_LIMIT_S = EXPORT_SOFT_TIME_LIMIT_S + 120

MESSAGE_TOO_SLOW = "Writing this export took too long. Ask for it again, or ask us for help."
MESSAGE_GAVE_UP = "We could not reach storage to write this export. Please ask again later."
MESSAGE_BUG = "Something went wrong while writing this export. Please ask for it again."


@shared_task(
    name="learning.build_export",
    bind=True,
    soft_time_limit=EXPORT_SOFT_TIME_LIMIT_S,
    time_limit=EXPORT_TIME_LIMIT_S,
    **RETRY_POLICY,
)
def build_export(self, export_id: int) -> str:
    """Write export `export_id`'s ZIP, then email its requester (see services.export_build)."""
    outcome = run_recording_failures(
        self,
        lambda: services.export_build(export_id=export_id),
        what=f"export {export_id}",
        fail=lambda message: services.export_fail(export_id=export_id, message=message),
        too_slow=MESSAGE_TOO_SLOW,
        gave_up=MESSAGE_GAVE_UP,
        crashed=MESSAGE_BUG,
    )
    if outcome == FAILED:
        return FAILED
    return outcome.state if outcome is not None else "skipped"


@shared_task(name="learning.email_export_ready", soft_time_limit=60, time_limit=90, **RETRY_POLICY)
def email_export_ready(export_id: int) -> None:
    """Email the requester their download link (a refused connection is an OSError: retried)."""
    services.export_email_send(export_id=export_id)


@shared_task(
    name="learning.expire_exports_all",
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    **RETRY_POLICY,
)
def expire_exports_all() -> int:
    """Celery beat's daily entry: queue one expiry run per tenant, each inside its schema."""
    count = 0
    tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
    for tenant in tenants.only("pk", "schema_name", "public_id"):
        with tenant_context(tenant):
            expire_exports.delay()
        count += 1
    return count


@shared_task(
    name="learning.expire_exports",
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
    **RETRY_POLICY,
)
def expire_exports() -> int:
    """Delete the current tenant's exports past their keeping time (services.exports_expire)."""
    if connection.schema_name == get_public_schema_name():
        logger.error("expire_exports must be queued inside a tenant")
        return 0
    return services.exports_expire()
