"""The watchdog's beat task (learning.jobs.watchdog): every WATCHDOG_EVERY_S, queue again the
media and alignment jobs whose worker died."""

from __future__ import annotations

import logging

from celery import shared_task

from learning.jobs import watchdog
from learning.retries import RETRY_POLICY

logger = logging.getLogger(__name__)


# Its beat entry expires each message when the next is due (settings' CELERY_BEAT_SCHEDULE).
@shared_task(
    name="learning.lapsed_jobs_requeue",
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
    **RETRY_POLICY,
)
def lapsed_jobs_requeue() -> dict[str, int]:
    """Queue again the running jobs whose lease lapsed, in every tenant's schema."""
    requeued = watchdog.lapsed_jobs_requeue()
    if requeued.media or requeued.alignments or requeued.dropped:
        logger.warning(
            "watchdog queued again %s media and %s alignments (%s finished leases dropped)",
            requeued.media,
            requeued.alignments,
            requeued.dropped,
        )
    return {"media": requeued.media, "alignments": requeued.alignments, "dropped": requeued.dropped}
