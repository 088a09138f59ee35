"""Leases on running jobs (MediaFile processing, Alignment computing).

Redis hands a killed worker's unacknowledged message out again only after its visibility
timeout (an hour, which must exceed the longest task). So a job does not wait for the broker:
the run that claims a row writes its token and a short expiry on it, a heartbeat thread renews
the expiry while the work goes on, and the watchdog (learning.jobs.watchdog) queues the job
again once the expiry has passed, under a new token. A claim succeeds only on a free row, a
lapsed lease or the run's own token (a retry, or the watchdog's message), and the final write
checks the token again: a late redelivery of the dead run's message does nothing, and a run
that lost its lease throws its result away. The token is the Celery task id, which a retry
keeps and the watchdog's new message names.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django_tenants.utils import schema_context

from learning.models import Leased

logger = logging.getLogger(__name__)

# A lease lasts LEASE_S and is renewed every HEARTBEAT_S, so two missed beats in a row (a
# database hiccup) do not lose it, while a dead run's job is free LEASE_S after its last beat.
# With the watchdog every WATCHDOG_EVERY_S, a killed worker's job is queued again within
# LEASE_S + WATCHDOG_EVERY_S (45 s) of the kill.
LEASE_S = 30
HEARTBEAT_S = 10
WATCHDOG_EVERY_S = 15
# The watchdog's message may wait behind a backlog; the lease it writes covers that wait.
REQUEUE_GRACE_S = 10 * 60


def lease_token(task_id: str | None) -> str:
    """The token a run holds its lease under: its task id, or a fresh one (run in-process)."""
    return task_id or uuid.uuid4().hex


def lease_expiry(seconds: float | None = None) -> datetime:
    return timezone.now() + timedelta(seconds=LEASE_S if seconds is None else seconds)


def lease_claimable(row: Leased, token: str) -> bool:
    """Whether the run holding `token` may take the row (call with the row locked)."""
    return (
        not row.lease_token
        or row.lease_token == token
        or row.lease_expires_at is None
        or row.lease_expires_at <= timezone.now()
    )


def lease_take(row: Leased, token: str, seconds: float | None = None) -> list[str]:
    """Write the lease on `row` (not saved); returns the fields to save."""
    row.lease_token = token
    row.lease_expires_at = lease_expiry(seconds)
    return ["lease_token", "lease_expires_at"]


def lease_clear(row: Leased) -> list[str]:
    """Release the lease on `row` (not saved); returns the fields to save."""
    row.lease_token = ""
    row.lease_expires_at = None
    return ["lease_token", "lease_expires_at"]


def lease_extend(model: type[Model], *, pk: int, token: str, seconds: float | None = None) -> bool:
    """Renew the lease if `token` still holds it; never waits for a row lock (a row being
    written is skipped: the next beat renews it). Returns whether it was renewed."""
    with transaction.atomic():
        held = (
            model.objects.filter(pk=pk, lease_token=token)
            .select_for_update(skip_locked=True)
            .values("pk")
        )
        return model.objects.filter(pk__in=held).update(lease_expires_at=lease_expiry(seconds)) > 0


@contextmanager
def lease_kept(model: type[Model], *, pk: int, token: str) -> Iterator[None]:
    """Renew the lease on `model` row `pk` every HEARTBEAT_S while the block runs."""
    schema = connection.schema_name
    stop = threading.Event()

    def beat() -> None:
        # Its own thread, so its own database connection, in the job's schema.
        try:
            with schema_context(schema):
                while not stop.wait(HEARTBEAT_S):
                    try:
                        if not lease_extend(model, pk=pk, token=token):
                            logger.info("%s %s: lease not renewed", model.__name__, pk)
                    except DatabaseError as error:
                        logger.warning("%s %s: heartbeat failed: %s", model.__name__, pk, error)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_S)
