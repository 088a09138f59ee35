"""The alignment task (issue 6). Queued inside a tenant (tenant-schemas-celery carries the
schema), it takes a reply id, computes and stores the alignment, and is safe to run twice:
a current result is kept. It follows the one retry policy (learning.retries): storage outages
and media timeouts are retried; anything else leaves the alignment `failed` with a sentence
and a logged traceback, so the compare page falls back to manual sync.
"""

from __future__ import annotations

from celery import shared_task

from learning.alignment import services
from learning.retries import FAILED, RETRY_POLICY, run_recording_failures

# A 20-minute pair (the longest upload) decodes and aligns in well under a minute.
SOFT_TIME_LIMIT_S = 5 * 60
TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 60
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
    # The task id is the run's lease token: a retry keeps it, the watchdog's message names it.
    token = self.request.id
    outcome = run_recording_failures(
        self,
        lambda: services.alignment_compute(reply_id=reply_id, force=force, token=token),
        what=f"alignment of reply {reply_id}",
        fail=lambda reason: services.alignment_fail(reply_id=reply_id, reason=reason, token=token),
        too_slow=TOO_SLOW,
        gave_up=services.CRASHED,
        crashed=services.CRASHED,
        hold=lambda seconds: services.alignment_lease_hold(
            reply_id=reply_id, token=token, seconds=seconds
        ),
    )
    if outcome == FAILED:
        return FAILED
    return outcome.status if outcome is not None else "skipped"
