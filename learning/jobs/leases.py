"""Leases on running jobs (a media file's processing, a reply's alignment).

Redis hands a killed worker's unacknowledged message out again only after its visibility
timeout (an hour, which must exceed the longest task). So a job does not wait for the broker:
the run that claims a job writes a lease (tenants.models.JobLease: its token and a short
expiry), a heartbeat thread renews the expiry while the work goes on, and the watchdog
(learning.jobs.watchdog) queues the job again once the expiry has passed, under a new token.

A claim succeeds only when there is no lease, a lapsed one or the run's own token (a retry, or
the watchdog's message), and the final write checks the token again: a late redelivery of the
dead run's message does nothing, and a run that lost its lease throws its result away. The
token is the Celery task id, which a retry keeps and the watchdog's new message names.

Claims, checks and releases run inside the transaction that holds the job's own row lock (the
MediaFile or Alignment), so they are serialised per job. The leases live in the public schema
so that the watchdog needs one query for every tenant; inside a tenant's schema they are
reached through `search_path` like any public table, in the same transaction.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tenants.models import JobLease, Tenant

logger = logging.getLogger(__name__)

# The jobs, by the name of the task that runs them (its one argument is the object id).
MEDIA = "learning.process_media"  # object id: the MediaFile
ALIGNMENT = "learning.align_reply"  # object id: the Reply

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


def _tenant_id() -> int:
    """The current tenant's id (tenant_context sets the tenant; schema_context only a name)."""
    tenant_id = getattr(connection.tenant, "pk", None)
    if tenant_id is None:
        tenant_id = Tenant.objects.values_list("pk", flat=True).get(
            schema_name=connection.schema_name
        )
    return tenant_id


def _lease(kind: str, object_id: int) -> JobLease | None:
    return (
        JobLease.objects.select_for_update()
        .filter(tenant_id=_tenant_id(), kind=kind, object_id=object_id)
        .first()
    )


def _free_or_ours(lease: JobLease | None, token: str) -> bool:
    return lease is None or lease.token == token or lease.expires_at <= timezone.now()


def lease_claimable(kind: str, object_id: int, token: str) -> bool:
    """Whether the run holding `token` may take the job: no lease, a lapsed one, or its own."""
    return _free_or_ours(_lease(kind, object_id), token)


def lease_claim(kind: str, object_id: int, token: str) -> bool:
    """Take the job's lease for the run holding `token`, unless another live run holds it.
    Call inside the transaction that locks the job's row."""
    lease = _lease(kind, object_id)
    if not _free_or_ours(lease, token):
        return False
    if lease is None:
        JobLease.objects.create(
            tenant_id=_tenant_id(),
            kind=kind,
            object_id=object_id,
            token=token,
            expires_at=lease_expiry(),
        )
    else:
        lease.token, lease.expires_at = token, lease_expiry()
        lease.save(update_fields=["token", "expires_at"])
    return True


def lease_held(kind: str, object_id: int, token: str) -> bool:
    """Whether the run holding `token` still holds the job (its final write checks this)."""
    lease = _lease(kind, object_id)
    return lease is not None and lease.token == token


def lease_release(kind: str, object_id: int) -> None:
    """The job is done (or given up, or requested afresh): no run holds it any more."""
    JobLease.objects.filter(tenant_id=_tenant_id(), kind=kind, object_id=object_id).delete()


def lease_extend(
    kind: str,
    object_id: int,
    token: str,
    *,
    seconds: float | None = None,
    tenant_id: int | None = None,
) -> bool:
    """Renew the lease if `token` still holds it; never waits for a row lock (a lease being
    written is skipped: the next beat renews it). Returns whether it was renewed."""
    with transaction.atomic():
        held = (
            JobLease.objects.filter(
                tenant_id=_tenant_id() if tenant_id is None else tenant_id,
                kind=kind,
                object_id=object_id,
                token=token,
            )
            .select_for_update(skip_locked=True)
            .values("pk")
        )
        renewed = JobLease.objects.filter(pk__in=held).update(expires_at=lease_expiry(seconds))
    return renewed > 0


@contextmanager
def lease_kept(kind: str, object_id: int, token: str) -> Iterator[None]:
    """Renew the job's lease every HEARTBEAT_S while the block runs."""
    tenant_id = _tenant_id()
    stop = threading.Event()

    def beat() -> None:
        # Its own thread, so its own database connection (closed at the end).
        try:
            while not stop.wait(HEARTBEAT_S):
                try:
                    if not lease_extend(kind, object_id, token, tenant_id=tenant_id):
                        logger.info("%s %s: lease not renewed", kind, object_id)
                except DatabaseError as error:
                    logger.warning("%s %s: heartbeat failed: %s", kind, object_id, error)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{kind}-{object_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_S)
