"""The watchdog: queue again the jobs whose run stopped renewing its lease (a killed worker).

The leases of every tenant are in one public table (tenants.models.JobLease), so one indexed
query finds the lapsed ones, however many tenants there are. Each lapsed lease is locked
(skipping leases a run is writing), given a new token and a lease that covers its wait in the
queue; then, inside its tenant, the job is queued with that token as its task id, so that the
new run, and only it, may claim it (learning.jobs.leases). A lease whose job is no longer
running (its row deleted, or finished without releasing it) is dropped instead.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from learning.jobs import leases
from learning.models import Alignment, MediaFile
from tenants.models import JobLease

logger = logging.getLogger(__name__)

# At most this many jobs per run; the rest wait for the next beat, seconds away.
BATCH = 500


@dataclass(frozen=True)
class Requeued:
    media: int
    alignments: int
    dropped: int  # leases of jobs that no longer run


def _still_running(kind: str, object_id: int) -> bool:
    if kind == leases.MEDIA:
        running = (MediaFile.State.UPLOADED, MediaFile.State.PROCESSING)
        return MediaFile.objects.filter(pk=object_id, state__in=running).exists()
    if kind == leases.ALIGNMENT:
        pending = Alignment.Status.PENDING
        return Alignment.objects.filter(reply_id=object_id, status=pending).exists()
    return False


def _queue(kind: str, object_id: int, token: str) -> None:
    from learning.alignment.tasks import align_reply
    from learning.media.tasks import process_media

    task = {leases.MEDIA: process_media, leases.ALIGNMENT: align_reply}[kind]
    task.apply_async(args=[object_id], task_id=token)


def lapsed_jobs_requeue() -> Requeued:
    """Queue again every media and alignment job whose lease has lapsed, in every tenant."""
    with transaction.atomic():
        lapsed = list(
            JobLease.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(expires_at__lt=timezone.now(), kind__in=(leases.MEDIA, leases.ALIGNMENT))
            .select_related("tenant")
            .order_by("expires_at")[:BATCH]
        )
        for lease in lapsed:
            lease.token = uuid.uuid4().hex
            lease.expires_at = leases.lease_expiry(leases.REQUEUE_GRACE_S)
        JobLease.objects.bulk_update(lapsed, ["token", "expires_at"])
    counts = {leases.MEDIA: 0, leases.ALIGNMENT: 0}
    dropped = 0
    for lease in lapsed:
        # Queued inside tenant_context, the task carries the tenant's schema to the worker.
        with tenant_context(lease.tenant):
            if not _still_running(lease.kind, lease.object_id):
                JobLease.objects.filter(pk=lease.pk, token=lease.token).delete()
                dropped += 1
                continue
            _queue(lease.kind, lease.object_id, lease.token)
        logger.warning(
            "%s %s in %s: its run stopped (lease lapsed); queued again",
            lease.kind,
            lease.object_id,
            lease.tenant.schema_name,
        )
        counts[lease.kind] += 1
    return Requeued(
        media=counts[leases.MEDIA], alignments=counts[leases.ALIGNMENT], dropped=dropped
    )
