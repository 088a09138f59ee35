"""Background work of courses: a copy into another school with its recordings (copies.copy_run).

Queued inside the source school's tenant_context (tenant-schemas-celery carries the schema), so
the task finds the source in `connection.tenant` and enters the target itself. The one retry
policy (learning.retries): storage trouble is retried, a refusal (a plan's exercise limit) or a
bug is recorded on the CourseCopy row for the teacher to read.
"""

from __future__ import annotations

from celery import shared_task

from learning.courses import copies
from learning.errors import DomainError
from learning.retries import FAILED, RETRY_POLICY, run_recording_failures

COPY_SOFT_TIME_LIMIT_S = 20 * 60
MESSAGE_GAVE_UP = "The recordings could not be copied right now. Please try again later."
MESSAGE_BUG = "Something went wrong while copying. Please try again."


@shared_task(
    name="learning.copy_to_tenant",
    bind=True,
    soft_time_limit=COPY_SOFT_TIME_LIMIT_S,
    time_limit=COPY_SOFT_TIME_LIMIT_S + 60,
    **RETRY_POLICY,
)
def copy_to_tenant(self, copy_id: int) -> str:
    """Copy an exercise or a course, with its recordings, into another school."""

    def work() -> str:
        try:
            copy = copies.copy_run(copy_id=copy_id)
        except DomainError as error:  # a verdict for the teacher, not worth a retry
            copies.copy_fail(copy_id=copy_id, message=error.message)
            return FAILED
        return copy.state if copy is not None else "missing"

    return run_recording_failures(
        self,
        work,
        what=f"copy {copy_id}",
        fail=lambda message: copies.copy_fail(copy_id=copy_id, message=message),
        too_slow=MESSAGE_GAVE_UP,
        gave_up=MESSAGE_GAVE_UP,
        crashed=MESSAGE_BUG,
    )
