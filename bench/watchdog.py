"""What one beat of the lease watchdog costs with many tenants (learning.jobs.watchdog).

    make bench                                   (or: python bench/watchdog.py)
    BENCH watchdog_beat_1000_tenants_ms <value> ms

The watchdog runs every 15 s and must find the lapsed jobs of every tenant. The leases live in
one public table (tenants.models.JobLease), so a beat is one indexed query, whatever the number
of tenants. This bench makes 1,000 tenants with 5 running jobs each (live leases), and prints
the median wall time of a beat that finds nothing to do (20 runs). Runs against the embedded
PostgreSQL in .data/postgres-bench, never the development or test database; everything it
creates is dropped afterwards.

For comparison, asking each tenant's schema instead (an EXISTS per schema, 500 schemas per
statement: learning.jobs' first design) measured 250-900 ms per beat for 1,000 schemas on the
project's 2-core machine, almost all of it planning, and grows with every tenant.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
JOBS_PER_TENANT = 5
PREFIX = "bench_wd_"


def _setup_django() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("PRACTIKA_EMBEDDED_PG_DIR", str(ROOT / ".data" / "postgres-bench"))
    os.environ.pop("DATABASE_URL", None)  # always the embedded server: comparable numbers
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("PRACTIKA_TENANT_SPARE_SCHEMAS", "0")
    import django

    django.setup()


def main() -> int:
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from learning.jobs import leases, watchdog
    from tenants.models import JobLease, Tenant

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    # Tenant rows only: the beat never enters a schema when nothing has lapsed.
    Tenant.objects.filter(schema_name__startswith=PREFIX).delete()
    try:
        tenants = Tenant.objects.bulk_create(
            (
                Tenant(
                    schema_name=f"{PREFIX}{n:04d}",
                    slug=f"bench-wd-{n:04d}",
                    name=str(n),
                    kind="school",
                )
                for n in range(TENANTS)
            ),
            batch_size=500,
        )
        until = timezone.now() + timedelta(hours=1)
        JobLease.objects.bulk_create(
            (
                JobLease(
                    tenant=tenant,
                    kind=leases.MEDIA,
                    object_id=job,
                    token=f"run-{job}",
                    expires_at=until,
                )
                for tenant in tenants
                for job in range(JOBS_PER_TENANT)
            ),
            batch_size=1000,
        )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {JobLease._meta.db_table}")
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            requeued = watchdog.lapsed_jobs_requeue()
            timings.append((time.perf_counter() - started) * 1000)
            if requeued.media or requeued.alignments or requeued.dropped:
                print(f"a beat found work where there is none: {requeued}", file=sys.stderr)
                return 1
        print(f"BENCH watchdog_beat_{TENANTS}_tenants_ms {statistics.median(timings):.1f} ms")
    finally:
        Tenant.objects.filter(schema_name__startswith=PREFIX).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
