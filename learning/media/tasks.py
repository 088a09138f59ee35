"""Background work of media files: processing an upload, removing the stored objects of deleted
media, and the daily storage sweep. Each task takes ids, calls a service and follows the one
retry policy (learning.retries): transient failures are retried with backoff, anything else
is recorded on the media file and logged, never retried.

The Celery app is tenant-schemas-celery's: a task queued inside a tenant runs in that
tenant's schema, so these tasks find the tenant in `connection.tenant` like a request does.
Names are explicit (routes in settings name them; moving this module changes nothing).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from learning.media import cleanup, services
from learning.retries import FAILED, MAX_RETRIES, RETRY_POLICY, run_recording_failures

logger = logging.getLogger(__name__)

# Limits for one processing run. A 20-minute recording (the longest allowed) that must be
# re-encoded takes about 4 minutes on 2 cores, a browser-ready one (streams copied, every
# frame still decoded once) under 2; the rest is download and upload time.
PROCESS_SOFT_TIME_LIMIT_S = 20 * 60
PROCESS_TIME_LIMIT_S = PROCESS_SOFT_TIME_LIMIT_S + 120
PROCESS_MAX_RETRIES = MAX_RETRIES

MESSAGE_TOO_SLOW = "Processing this recording took too long. Try a shorter recording."
MESSAGE_GAVE_UP = (
    "We could not process this recording right now. Please try uploading it again later."
)
MESSAGE_BUG = "Something went wrong while processing this recording. Please upload it again."


@shared_task(
    name="learning.process_media",
    bind=True,
    soft_time_limit=PROCESS_SOFT_TIME_LIMIT_S,
    time_limit=PROCESS_TIME_LIMIT_S,
    **RETRY_POLICY,
)
def process_media(self, media_id: int) -> str:
    """Turn an uploaded file into renditions, poster and waveform (see services.media_process)."""
    # The task id is the run's lease token: a retry keeps it, the watchdog's message names it.
    token = self.request.id
    outcome = run_recording_failures(
        self,
        lambda: services.media_process(media_id=media_id, token=token),
        what=f"media {media_id}",
        fail=lambda message: services.media_fail(media_id=media_id, message=message, token=token),
        too_slow=MESSAGE_TOO_SLOW,
        gave_up=MESSAGE_GAVE_UP,
        crashed=MESSAGE_BUG,
        hold=lambda seconds: services.media_lease_hold(
            media_id=media_id, token=token, seconds=seconds
        ),
    )
    if outcome == FAILED:
        return FAILED
    return outcome.state if outcome is not None else "skipped"


@shared_task(
    name="learning.delete_stored_objects", soft_time_limit=10 * 60, time_limit=11 * 60,
    **RETRY_POLICY,
)
def delete_stored_objects(prefixes: list[str]) -> int:
    """Remove the stored objects of deleted media (folders under the current tenant only)."""
    deleted = cleanup.stored_objects_delete(prefixes=prefixes)
    logger.info("deleted %s stored objects under %s folders", deleted, len(prefixes))
    return deleted


@shared_task(
    name="learning.sweep_orphaned_media", soft_time_limit=5 * 60, time_limit=6 * 60,
    **RETRY_POLICY,
)
def sweep_orphaned_media() -> int:
    """Celery beat's daily entry: queue one sweep per tenant, each inside its schema."""
    count = 0
    tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
    for tenant in tenants.only("pk", "schema_name", "public_id"):
        # Queued inside tenant_context, the task carries the tenant's schema to the worker.
        with tenant_context(tenant):
            sweep_tenant_media.delay()
        count += 1
    logger.info("queued the media sweep for %s tenants", count)
    return count


@shared_task(
    name="learning.sweep_tenant_media", soft_time_limit=30 * 60, time_limit=31 * 60,
    **RETRY_POLICY,
)
def sweep_tenant_media() -> dict[str, int]:
    """Sweep the current tenant's storage folder (see cleanup.media_sweep)."""
    if connection.schema_name == get_public_schema_name():
        logger.error("sweep_tenant_media must be queued inside a tenant")
        return {}
    result = cleanup.media_sweep()
    logger.info(
        "media sweep in %s: %s abandoned uploads, %s orphaned objects removed",
        connection.schema_name, result.stale_uploads, result.orphaned_objects,
    )
    return {"stale_uploads": result.stale_uploads, "orphaned_objects": result.orphaned_objects}
