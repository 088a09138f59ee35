"""The watchdog: queue again the jobs whose run stopped renewing its lease (a killed worker).

It must look into every tenant's schema. One statement answers which schemas have lapsed
leases at all (an EXISTS per schema on the partial lease indexes, SCHEMAS_PER_QUERY schemas
per round trip), and only those schemas are entered. There, each lapsed row is locked
(skipping rows a run is writing), given a new token and a lease that covers its wait in the
queue, and its task is queued on commit with that token as its task id, so that the new run,
and only it, may claim the row (learning.jobs.leases).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context
from psycopg import sql

from learning.jobs import leases
from learning.models import Alignment, MediaFile

logger = logging.getLogger(__name__)

SCHEMAS_PER_QUERY = 500


@dataclass(frozen=True)
class Requeued:
    schemas: int  # tenant schemas looked into
    media: int
    alignments: int


_LAPSED = sql.SQL(
    "SELECT %s WHERE EXISTS (SELECT 1 FROM {schema}.{media} WHERE state = 'processing'"
    " AND lease_expires_at < %s) OR EXISTS (SELECT 1 FROM {schema}.{alignment}"
    " WHERE status = 'pending' AND lease_expires_at < %s)"
)


def _lapsed_sql(schema: str) -> sql.Composed:
    return _LAPSED.format(
        schema=sql.Identifier(schema),
        media=sql.Identifier(MediaFile._meta.db_table),
        alignment=sql.Identifier(Alignment._meta.db_table),
    )


def schemas_with_lapsed_leases(schemas: list[str]) -> list[str]:
    """The schemas among `schemas` that hold a running job whose lease has lapsed."""
    now = timezone.now()
    found: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        existing = {row[0] for row in cursor.fetchall()}
        present = [schema for schema in schemas if schema in existing]
        for start in range(0, len(present), SCHEMAS_PER_QUERY):
            chunk = present[start : start + SCHEMAS_PER_QUERY]
            cursor.execute(
                sql.SQL(" UNION ALL ").join(_lapsed_sql(schema) for schema in chunk),
                [value for schema in chunk for value in (schema, now, now)],
            )
            found.extend(row[0] for row in cursor.fetchall())
    return found


def _in_this_tenant(send, **options):
    """`send(**options)` inside the current tenant, whenever it runs: the message must carry
    the schema even if the commit comes after this tenant_context has been left."""
    tenant = connection.tenant

    def queue() -> None:
        with tenant_context(tenant):
            send(**options)

    return queue


def _requeue_media() -> int:
    from learning.media.tasks import process_media

    count = 0
    with transaction.atomic():
        lapsed = MediaFile.objects.select_for_update(skip_locked=True).filter(
            state=MediaFile.State.PROCESSING, lease_expires_at__lt=timezone.now()
        )
        for media in lapsed.only("pk", "lease_token", "lease_expires_at"):
            token = uuid.uuid4().hex
            media.save(update_fields=leases.lease_take(media, token, leases.REQUEUE_GRACE_S))
            media_id = media.pk
            transaction.on_commit(
                _in_this_tenant(process_media.apply_async, args=[media_id], task_id=token)
            )
            logger.warning("media %s: its run stopped (lease lapsed); queued again", media_id)
            count += 1
    return count


def _requeue_alignments() -> int:
    from learning.alignment.tasks import align_reply

    count = 0
    with transaction.atomic():
        lapsed = Alignment.objects.select_for_update(skip_locked=True).filter(
            status=Alignment.Status.PENDING, lease_expires_at__lt=timezone.now()
        )
        for alignment in lapsed.only("pk", "reply_id", "lease_token", "lease_expires_at"):
            token = uuid.uuid4().hex
            alignment.save(
                update_fields=leases.lease_take(alignment, token, leases.REQUEUE_GRACE_S)
            )
            reply_id = alignment.reply_id
            transaction.on_commit(
                _in_this_tenant(align_reply.apply_async, args=[reply_id], task_id=token)
            )
            logger.warning(
                "alignment of reply %s: its run stopped (lease lapsed); queued again", reply_id
            )
            count += 1
    return count


def lapsed_jobs_requeue() -> Requeued:
    """Queue again every media and alignment job whose lease has lapsed, in every tenant."""
    public = get_public_schema_name()
    tenants = {
        tenant.schema_name: tenant
        for tenant in get_tenant_model().objects.exclude(schema_name=public)
    }
    media = alignments = 0
    for schema in schemas_with_lapsed_leases(sorted(tenants)):
        # Queued inside tenant_context, the tasks carry the tenant's schema to the worker.
        with tenant_context(tenants[schema]):
            media += _requeue_media()
            alignments += _requeue_alignments()
    return Requeued(schemas=len(tenants), media=media, alignments=alignments)
