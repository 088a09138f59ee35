"""How long one new migration takes across 1,000 tenant schemas with `migrate_tenants`.

    make bench                                   (or: python bench/tenant_migrations.py)
    BENCH migrate_1000_schemas_s <value> s

Runs against the embedded PostgreSQL in its own data folder (.data/postgres-bench), never the
development or test database. A bench-only tenant app (bench/tenant_migration_app) gets its
first migration in the template, which is then cloned 1,000 times (each clone with 100 rows in
that table); the figure is the wall time of `manage.py migrate_tenants` applying the app's
second migration (AddField with a default, plus an index on it) to the template and all
1,000 schemas. Everything it creates is dropped afterwards.
"""

# Schema and table names in the SQL below are this script's own constants, never input.
# ruff: noqa: S608

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = int(os.environ.get("BENCH_SCHEMAS", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
PREFIX = "bench_mt_"
APP = "bench.tenant_migration_app"
LABEL = "bench_migration"


def _setup_django() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("PRACTIKA_EMBEDDED_PG_DIR", str(ROOT / ".data" / "postgres-bench"))
    os.environ.pop("DATABASE_URL", None)  # always the embedded server: comparable numbers
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # The figure is the roll-out; the spare schemas migrate_tenants clones at its end are
    # bench/tenant_provisioning.py's subject (it only drops the stale ones here).
    os.environ.setdefault("PRACTIKA_TENANT_SPARE_SCHEMAS", "0")
    import django

    django.setup()


def _execute(sql: str, params=()) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _cleanup(template: str) -> None:
    from django.db import connection

    from tenants.models import Tenant

    connection.set_schema_to_public()
    _execute(f"DELETE FROM {Tenant._meta.db_table} WHERE schema_name LIKE %s", [PREFIX + "%"])
    schemas = [
        schema for (schema,) in _execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [PREFIX + "%"]
        )
    ]
    # A few schemas per statement: each dropped table takes locks, and PostgreSQL's lock table
    # (max_locks_per_transaction) overflows if one statement drops hundreds of them.
    for start in range(0, len(schemas), 5):
        names = ", ".join(f'"{schema}"' for schema in schemas[start : start + 5])
        _execute(f"DROP SCHEMA {names} CASCADE")
    if _execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [template]):
        _execute(f'DROP TABLE IF EXISTS "{template}".{LABEL}_practice')
        _execute(f'DELETE FROM "{template}".django_migrations WHERE app = %s', [LABEL])
        _execute(f'DELETE FROM "{template}".django_content_type WHERE app_label = %s', [LABEL])


def _clone(names: list[str]) -> None:
    """Clone a chunk of schemas on this thread's own connection, then close it."""
    from django.db import connection, transaction

    from tenants.clone import clone_template_schema

    try:
        with transaction.atomic():
            for name in names:
                clone_template_schema(name)
    finally:
        connection.close()


def main() -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from tenants.models import Tenant

    template = settings.TENANT_BASE_SCHEMA
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    with override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, APP], TENANT_APPS=[*settings.TENANT_APPS, APP]
    ):
        _cleanup(template)
        try:
            started = time.perf_counter()
            call_command(
                "migrate_schemas", LABEL, "0001_initial", schema_name=template,
                interactive=False, verbosity=0,
            )
            connection.set_schema_to_public()
            _execute(
                f'INSERT INTO "{template}".{LABEL}_practice (title, minutes, created_at) '
                "SELECT 'Scales ' || n, n %% 60, now() - n * interval '1 hour' "
                "FROM generate_series(1, 100) AS n"
            )
            names = [f"{PREFIX}{index:04d}" for index in range(SCHEMAS)]
            Tenant.objects.bulk_create(
                (Tenant(schema_name=name, slug=name.replace("_", "-"), name=name, kind="school")
                 for name in names),
                batch_size=500,
            )
            chunks = [names[i : i + 25] for i in range(0, len(names), 25)]
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                list(pool.map(_clone, chunks))
            print(
                f"set-up: {SCHEMAS} schemas cloned in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )

            out = StringIO()
            started = time.perf_counter()
            call_command("migrate_tenants", f"--workers={WORKERS}", stdout=out)
            elapsed = time.perf_counter() - started
            print(out.getvalue().strip(), file=sys.stderr)

            (migrated,) = _execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'practice_difficulty_idx' "
                "AND schemaname LIKE %s", [PREFIX + "%"],
            )[0]
            if migrated != SCHEMAS:
                print(f"only {migrated} of {SCHEMAS} schemas were migrated", file=sys.stderr)
                return 1
            print(f"BENCH migrate_{SCHEMAS}_schemas_s {elapsed:.1f} s")
        finally:
            _cleanup(template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
