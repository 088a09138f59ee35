"""The one retry policy of background work in learning and analytics.

A task retries only what may pass on its own: storage or network trouble, the scratch disk, a
media tool that ran past its time budget on a busy machine. It retries with exponential
backoff and jitter (about 15 s, 30 s, 60 s, … at most 15 minutes apart) up to `MAX_RETRIES`
times. Everything else is a verdict (a file that is not media) or a bug: the task records the
failure on its row with a sentence for people, logs the traceback and returns — it neither
retries nor raises, because a re-raised error would only mark Celery's own result while the
row is what pages read. On its last attempt a task gives up the same way. Tasks that own a
row run their work through `run_recording_failures`.

Every task also acknowledges its message only when done (`acks_late`): a killed worker's task
is delivered again, so tasks take ids and are safe to run twice. The broker does so only after
its visibility timeout (an hour); the media and alignment jobs do not wait for it: they hold a
lease that a watchdog watches (learning.jobs). While a retry waits, `hold(seconds)` keeps that
lease, so the watchdog does not cut the backoff short.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval

from learning.media.pipeline import ProcessingTimeout
from learning.storage import StorageUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")
FAILED = "failed"

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


def run_recording_failures(
    task,
    work: Callable[[], T],
    *,
    what: str,
    fail: Callable[[str], None],
    too_slow: str,
    gave_up: str,
    crashed: str,
    hold: Callable[[float], None] | None = None,
) -> T | str:
    """Run `work()` for `task` under the policy above; `fail(message)` records a failure on
    the row. Returns what `work` returned, or FAILED once the failure is recorded; on a
    transient error while retries are left, `hold(countdown)` and schedule the next attempt
    (the countdown autoretry would choose; raises celery's Retry)."""
    try:
        return work()
    except SoftTimeLimitExceeded:
        fail(too_slow)
    except TRANSIENT_ERRORS as error:
        if retries_left(task):
            countdown = get_exponential_backoff_interval(
                factor=RETRY_POLICY["retry_backoff"],
                retries=task.request.retries,
                maximum=RETRY_POLICY["retry_backoff_max"],
                full_jitter=RETRY_POLICY["retry_jitter"],
            )
            logger.warning("%s: transient failure, retrying in %s s: %s", what, countdown, error)
            if hold is not None:
                hold(countdown)
            raise task.retry(exc=error, countdown=countdown) from error
        logger.exception("%s: giving up after %s retries", what, task.max_retries)
        fail(gave_up)
    except Exception:
        # A bug, not the person's fault: tell them instead of spinning for ever, and keep the
        # traceback for whoever reads the logs.
        logger.exception("%s crashed", what)
        fail(crashed)
    return FAILED
