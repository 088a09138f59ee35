"""Background work of exports: writing one export's ZIP (learning.exports.services). Queued
inside the tenant, so it runs in the tenant's schema (tenant-schemas-celery)."""

from __future__ import annotations

from celery import shared_task

from learning.exports import services
from learning.retries import FAILED, RETRY_POLICY, run_recording_failures

# A school with a few hundred gigabytes of recordings copies them in well under an hour at
# storage speeds; the limit only stops a run that is stuck.
EXPORT_SOFT_TIME_LIMIT_S = 3 * 3600
EXPORT_TIME_LIMIT_S = EXPORT_SOFT_TIME_LIMIT_S + 300

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
