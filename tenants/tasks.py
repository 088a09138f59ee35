"""Background tasks of the tenants app.

`tenant_worker_ping` is the canary for tenant routing in the workers: queued inside a tenant,
it must run in that tenant's schema (tenant-schemas-celery carries the schema in the message
headers). A deployment check or an operator queues it for a tenant and compares the answer;
the services test suite does the same against a real worker and broker.

`spare_schemas_refill` keeps the pool of spare schemas full (tenants.schema_pool);
`deletions_purge` purges the tenants whose deletion is due (tenants.services.deletion).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.result import AsyncResult
from django.db import connection
from django_tenants.utils import tenant_context

from tenants import schema_pool
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=20, time_limit=30, ignore_result=False)
def tenant_worker_ping(*, expected_schema: str) -> dict[str, str | bool]:
    """Report the schema and tenant this task ran in (read-only, safe to run any number of
    times)."""
    tenant = getattr(connection, "tenant", None)
    return {
        "schema": connection.schema_name,
        "tenant": getattr(tenant, "slug", "") or "",
        "expected_schema": expected_schema,
        "ok": connection.schema_name == expected_schema,
    }


def tenant_worker_ping_queue(*, tenant: Tenant, **options) -> AsyncResult:
    """Queue the canary inside `tenant`, so it must run in `tenant`'s schema."""
    with tenant_context(tenant):
        return tenant_worker_ping.apply_async(
            kwargs={"expected_schema": tenant.schema_name}, **options
        )


@shared_task(
    name="tenants.spare_schemas_refill", acks_late=True, soft_time_limit=120, time_limit=150
)
def spare_schemas_refill() -> dict[str, int]:
    """Drop stale spare schemas and clone new ones up to the pool's size (idempotent;
    concurrent runs take turns)."""
    refill = schema_pool.spares_refill()
    return {"discarded": refill.discarded, "created": refill.created}


@shared_task(
    name="tenants.deletions_purge", acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60
)
def deletions_purge() -> dict[str, int]:
    """Beat: purge every tenant whose deletion grace period is over (tenants.services.deletion).
    A tenant that fails part-way (Stripe or storage unreachable) stays closed and is tried again
    on the next run; the others go on."""
    from tenants.services import deletion  # the services import this module

    purged = failed = 0
    for tenant in deletion.tenants_due_for_purge():
        try:
            deletion.tenant_purge(tenant=tenant)
        except Exception:
            logger.exception("purge of tenant %s failed; tried again next run", tenant.public_id)
            failed += 1
        else:
            purged += 1
    return {"purged": purged, "failed": failed}


@shared_task(
    name="tenants.expire_impersonations", acks_late=True, soft_time_limit=60, time_limit=90
)
def expire_impersonations() -> int:
    """Log the end of support sessions past their time limit (idempotent: each ends once)."""
    from tenants.services.impersonation import impersonations_expire

    return impersonations_expire()
