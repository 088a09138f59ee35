"""The alignment task (issue 6). Queued inside a tenant (tenant-schemas-celery carries the
schema), it takes a reply id, computes and stores the alignment, and is safe to run twice:
a current result is kept. Retries only storage outages and media timeouts; anything else
leaves the reply `failed` with a sentence, so the compare page falls back to manual sync.

Celery's autodiscovery imports `learning.tasks` only: that module (or the Celery app)
must import this one for workers to know the task.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from learning import storage
from learning.alignment import services
from learning.media import MediaError

logger = logging.getLogger(__name__)

# A 20-minute pair (the longest upload) decodes and aligns in well under a minute.
SOFT_TIME_LIMIT_S = 5 * 60
TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 60
MAX_RETRIES = 4
RETRY_DELAY_S = 30
TOO_SLOW = "Automatic alignment took too long. Use the manual sync instead."


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    max_retries=MAX_RETRIES,
)
def align_reply(self, reply_id: int, force: bool = False) -> str:
    """Align one reply to its exercise's demonstration (see services.alignment_compute)."""
    try:
        alignment = services.alignment_compute(reply_id=reply_id, force=force)
    except SoftTimeLimitExceeded:
        services.alignment_fail(reply_id=reply_id, reason=TOO_SLOW)
        return "failed"
    except (storage.StorageUnavailable, MediaError) as error:
        if self.request.retries >= self.max_retries:
            logger.exception("alignment of reply %s: giving up", reply_id)
            services.alignment_fail(reply_id=reply_id)
            return "failed"
        delay = RETRY_DELAY_S * 2**self.request.retries
        raise self.retry(exc=error, countdown=delay) from error
    except Exception:
        logger.exception("alignment of reply %s crashed", reply_id)
        services.alignment_fail(reply_id=reply_id)
        return "failed"
    return alignment.status if alignment is not None else "skipped"
