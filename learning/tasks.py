"""Background work of the core loop. Each task takes ids, calls a service, is safe to run
twice, acknowledges its message only when done (`acks_late`: a killed worker's task is
delivered again) and retries only failures that may pass: storage or network trouble and
media timeouts. A file that is not media is a verdict, not an accident: it fails at once.

The Celery app is tenant-schemas-celery's: a task queued inside a tenant runs in that
tenant's schema, so these tasks find the tenant in `connection.tenant` like a request does.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from learning import storage, uploads
from learning.media import MediaError

logger = logging.getLogger(__name__)

# Limits for one processing run. A 20-minute recording (the longest allowed) transcodes in
# about 4 minutes on 2 cores; the rest is download and upload time.
PROCESS_SOFT_TIME_LIMIT_S = 20 * 60
PROCESS_TIME_LIMIT_S = PROCESS_SOFT_TIME_LIMIT_S + 120
PROCESS_MAX_RETRIES = 4
RETRY_BASE_DELAY_S = 15
RETRY_MAX_DELAY_S = 15 * 60

# What a retry can cure. OSError covers the scratch disk and sockets; storage errors that
# are verdicts (ObjectMissing, KeyRefused) are handled by the service and never reach here.
TRANSIENT_ERRORS = (storage.StorageUnavailable, ConnectionError, OSError, MediaError)

MESSAGE_TOO_SLOW = "Processing this recording took too long. Try a shorter recording."
MESSAGE_GAVE_UP = (
    "We could not process this recording right now. Please try uploading it again later."
)
MESSAGE_BUG = "Something went wrong while processing this recording. Please upload it again."


def retry_delay(retries: int) -> int:
    """Exponential backoff with jitter: about 15 s, 30 s, 60 s, … capped at 15 minutes."""
    delay = min(RETRY_MAX_DELAY_S, RETRY_BASE_DELAY_S * 2**retries)
    return int(delay * random.uniform(0.75, 1.25))  # noqa: S311 - jitter, not secrecy


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=PROCESS_SOFT_TIME_LIMIT_S,
    time_limit=PROCESS_TIME_LIMIT_S,
    max_retries=PROCESS_MAX_RETRIES,
)
def process_media(self, media_id: int) -> str:
    """Turn an uploaded file into renditions, poster and waveform (see uploads.media_process)."""
    try:
        media = uploads.media_process(media_id=media_id)
    except SoftTimeLimitExceeded:
        uploads.media_fail(media_id=media_id, message=MESSAGE_TOO_SLOW)
        return "failed"
    except TRANSIENT_ERRORS as error:
        if isinstance(error, MediaError) and not error.transient:
            raise  # media_process marks these failed itself; never seen here
        if self.request.retries >= self.max_retries:
            logger.exception("media %s: giving up after %s retries", media_id, self.max_retries)
            uploads.media_fail(media_id=media_id, message=MESSAGE_GAVE_UP)
            return "failed"
        logger.warning("media %s: transient failure, retrying: %s", media_id, error)
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries)) from error
    except Exception:
        # A bug, not the file's fault: tell the uploader instead of spinning for ever, and
        # keep the traceback for whoever reads the logs.
        logger.exception("media %s: processing crashed", media_id)
        uploads.media_fail(media_id=media_id, message=MESSAGE_BUG)
        raise
    return media.state if media is not None else "skipped"


@shared_task(
    bind=True, acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60, max_retries=5
)
def delete_stored_objects(self, prefixes: list[str]) -> int:
    """Remove the stored objects of deleted media (folders under the current tenant only)."""
    try:
        deleted = uploads.stored_objects_delete(prefixes=prefixes)
    except storage.StorageUnavailable as error:
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries)) from error
    logger.info("deleted %s stored objects under %s folders", deleted, len(prefixes))
    return deleted


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
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
    bind=True, acks_late=True, soft_time_limit=30 * 60, time_limit=31 * 60, max_retries=3
)
def sweep_tenant_media(self) -> dict[str, int]:
    """Sweep the current tenant's storage folder (see uploads.media_sweep)."""
    if connection.schema_name == get_public_schema_name():
        logger.error("sweep_tenant_media must be queued inside a tenant")
        return {}
    try:
        result = uploads.media_sweep()
    except storage.StorageUnavailable as error:
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries)) from error
    logger.info(
        "media sweep in %s: %s abandoned uploads, %s orphaned objects removed",
        connection.schema_name, result.stale_uploads, result.orphaned_objects,
    )
    return {"stale_uploads": result.stale_uploads, "orphaned_objects": result.orphaned_objects}


# Celery's autodiscovery imports only `learning.tasks`; this registers the alignment task too.
from learning.tasks_alignment import align_reply  # noqa: E402, F401
