"""The alignment task (issue 6). Queued inside a tenant (tenant-schemas-celery carries the
schema), it takes a reply id, computes and stores the alignment, and is safe to run twice:
a current result is kept. It follows the one retry policy (learning.retries): storage outages
and media timeouts are retried; anything else leaves the alignment `failed` with a sentence
and a logged traceback, so the compare page falls back to manual sync.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from learning.alignment import services
from learning.retries import MAX_RETRIES, RETRY_POLICY, TRANSIENT_ERRORS, retries_left

logger = logging.getLogger(__name__)

# A 20-minute pair (the longest upload) decodes and aligns in well under a minute.
SOFT_TIME_LIMIT_S = 5 * 60
TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 60
ALIGN_MAX_RETRIES = MAX_RETRIES
TOO_SLOW = "Automatic alignment took too long. Use the manual sync instead."


@shared_task(
    name="learning.align_reply",
    bind=True,
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    **RETRY_POLICY,
)
def align_reply(self, reply_id: int, force: bool = False) -> str:
    """Align one reply to its exercise's demonstration (see services.alignment_compute)."""
    try:
        alignment = services.alignment_compute(reply_id=reply_id, force=force)
    except SoftTimeLimitExceeded:
        services.alignment_fail(reply_id=reply_id, reason=TOO_SLOW)
        return "failed"
    except TRANSIENT_ERRORS as error:
        if retries_left(self):
            logger.warning("alignment of reply %s: retrying: %s", reply_id, error)
            raise  # autoretry_for schedules the next attempt
        logger.exception("alignment of reply %s: giving up", reply_id)
        services.alignment_fail(reply_id=reply_id)
        return "failed"
    except Exception:
        logger.exception("alignment of reply %s crashed", reply_id)
        services.alignment_fail(reply_id=reply_id)
        return "failed"
    return alignment.status if alignment is not None else "skipped"
