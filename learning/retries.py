"""The one retry policy of background work in learning and analytics.

A task retries only what may pass on its own: storage or network trouble, the scratch disk, a
media tool that ran past its time budget on a busy machine. It retries with exponential
backoff and jitter (about 15 s, 30 s, 60 s, … at most 15 minutes apart) up to `MAX_RETRIES`
times. Everything else is a verdict (a file that is not media) or a bug: the task records the
failure on its row with a sentence for people, logs the traceback and returns — it neither
retries nor raises, because a re-raised error would only mark Celery's own result while the
row is what pages read. On its last attempt a task gives up the same way (`retries_left`).

Every task also acknowledges its message only when done (`acks_late`): a killed worker's task
is delivered again, so tasks take ids and are safe to run twice.
"""

from __future__ import annotations

from learning.media.pipeline import ProcessingTimeout
from learning.storage import StorageUnavailable

MAX_RETRIES = 4
# What a retry can cure. OSError covers the scratch disk and sockets (ConnectionError is one);
# storage errors that are verdicts (ObjectMissing, KeyRefused) are handled by the services.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StorageUnavailable,
    OSError,
    ProcessingTimeout,
)

# `@shared_task(name=..., **RETRY_POLICY)`; Celery's autoretry computes the delays.
RETRY_POLICY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": MAX_RETRIES,
    "retry_backoff": 15,
    "retry_backoff_max": 15 * 60,
    "retry_jitter": True,
}


def retries_left(task) -> bool:
    """Whether a transient failure of `task`'s current run will be retried."""
    return task.request.retries < task.max_retries
