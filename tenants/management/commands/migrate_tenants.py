"""Roll migrations out across every tenant schema, in parallel and resumably.

    manage.py migrate_tenants [--workers N] [--schema NAME ...] [--lock-timeout 5s]

Order: the template schema (settings.TENANT_BASE_SCHEMA) first, through Django's own executor,
so tenants created meanwhile are cloned from an up-to-date template; then every tenant schema.
Each schema's own `django_migrations` table is the source of truth: a rerun applies only what
a schema still lacks, so after a failure the same command resumes where it stopped. A schema
that fails is rolled back and reported; the others go on; the command exits non-zero.

Why not `migrate_schemas`: it loads the migration graph and runs Django's executor once per
schema (about half a second each), which is what takes hours across thousands of schemas.
Most migrations are pure DDL, and every tenant schema is a clone of the same template, so the
SQL is compiled once per distinct set of pending migrations (as `sqlmigrate` does) and then
applied to each schema in one transaction — `SET LOCAL search_path`, the DDL, the
`django_migrations` rows and any new content types together — over a few connections.
Migrations that cannot be written as SQL (RunPython) or that are not atomic go through
django-tenants' `migrate_schemas --schema` instead, in forked worker processes.

Spare schemas (tenants.schema_pool) are not tenants and are not migrated: once the template
has moved on they are never taken, and the last step drops them and clones fresh ones, so
the first sign-ups after a deploy still find a spare.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django_tenants.utils import get_public_schema_name, get_tenant_model
from psycopg import sql

from tenants import schema_pool

MigrationKey = tuple[str, str]

# Connection parameters Django adds for its own cursors; a plain psycopg connection needs none.
_DJANGO_ONLY_PARAMS = {"cursor_factory", "context", "prepare_threshold"}


@dataclass
class Outcome:
    migrated: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    fast_path: int = 0
    django_path: int = 0


@dataclass(frozen=True)
class CompiledPlan:
    """The SQL for one sequence of pending migrations, shared by every schema that lacks it."""

    keys: tuple[MigrationKey, ...]
    statements: str | None  # None: needs Django's executor (RunPython or non-atomic)


def _reduces_to_sql(operations: Iterable) -> bool:
    for operation in operations:
        if not operation.reduces_to_sql:
            return False
        if not _reduces_to_sql(getattr(operation, "database_operations", [])):
            return False
    return True


def _compilable(migration: Migration) -> bool:
    return migration.atomic and _reduces_to_sql(migration.operations)


def _migrate_with_django(schema: str) -> tuple[str, str | None]:
    """Run in a forked worker: django-tenants' own migrate for one schema."""
    try:
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    except Exception as error:
        return schema, f"{type(error).__name__}: {error}"
    finally:
        connections.close_all()
    return schema, None


class Command(BaseCommand):
    help = "Apply pending migrations to the template and every tenant schema, in parallel."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=os.cpu_count() or 2,
            help="Parallel database connections (default: the number of CPUs).",
        )
        parser.add_argument(
            "--schema", action="append", dest="schemas", default=None,
            help="Only these tenant schemas (repeatable). The template is always migrated.",
        )
        parser.add_argument(
            "--lock-timeout", default="5s",
            help="Give up on a schema whose tables stay locked this long (PostgreSQL units).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        self.workers = max(1, options["workers"])
        self.lock_timeout = options["lock_timeout"]
        self.verbosity = options["verbosity"]
        self.local = threading.local()
        self.opened: list[psycopg.Connection] = []
        self.opened_lock = threading.Lock()

        template = settings.TENANT_BASE_SCHEMA
        self._migrate_template(template)
        schemas = self._tenant_schemas(options["schemas"])
        outcome = Outcome()
        try:
            self._migrate_schemas(schemas, outcome)
        finally:
            for db in self.opened:
                db.close()
        refill = schema_pool.spares_refill()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"migrate_tenants: {len(outcome.migrated)} migrated "
            f"({outcome.fast_path} by compiled SQL, {outcome.django_path} by Django's executor), "
            f"{len(outcome.up_to_date)} up to date, {len(outcome.failed)} failed, "
            f"{len(schemas)} tenant schemas in {elapsed:.1f}s with {self.workers} workers; "
            f"spare schemas: {refill.discarded} discarded, {refill.created} cloned"
        )
        for schema, error in sorted(outcome.failed.items()):
            self.stderr.write(f"FAILED {schema}: {error}")
        if outcome.failed:
            raise CommandError(
                f"{len(outcome.failed)} schema(s) failed; fix the cause and rerun "
                "`manage.py migrate_tenants`: it applies only what is still missing."
            )
        return None

    # --- steps ----------------------------------------------------------------------------

    def _migrate_template(self, template: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {connection.ops.quote_name(template)}")
        call_command(
            "migrate_schemas", schema_name=template, interactive=False,
            verbosity=max(0, self.verbosity - 1),
        )
        connection.set_schema_to_public()

    def _tenant_schemas(self, only: list[str] | None) -> list[str]:
        tenants = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
        if only:
            tenants = tenants.filter(schema_name__in=only)
            missing = set(only) - set(tenants.values_list("schema_name", flat=True))
            if missing:
                raise CommandError(f"No tenant with schema {', '.join(sorted(missing))}")
        return list(tenants.order_by("schema_name").values_list("schema_name", flat=True))

    def _migrate_schemas(self, schemas: list[str], outcome: Outcome) -> None:
        applied = self._parallel(self._applied, schemas)
        plan = self._full_plan()
        groups: dict[tuple[MigrationKey, ...], list[str]] = defaultdict(list)
        for schema in schemas:
            result = applied[schema]
            if isinstance(result, Exception):
                outcome.failed[schema] = f"cannot read django_migrations: {result}"
                continue
            pending = tuple(
                migration for migration in plan if not self._is_applied(migration, result)
            )
            if pending:
                groups[tuple((m.app_label, m.name) for m in pending)].append(schema)
            else:
                outcome.up_to_date.append(schema)

        by_django: list[str] = []
        for keys, members in groups.items():
            compiled = self._compile(keys, representative=members[0])
            if compiled.statements is None:
                by_django.extend(members)
                continue
            results = self._parallel(lambda schema, c=compiled: self._apply(schema, c), members)
            for schema, error in results.items():
                if error is None:
                    outcome.migrated.append(schema)
                    outcome.fast_path += 1
                else:
                    outcome.failed[schema] = str(error)
        if by_django:
            connections.close_all()
            context = multiprocessing.get_context("fork")
            with context.Pool(min(self.workers, len(by_django))) as pool:
                for schema, error in pool.imap_unordered(_migrate_with_django, by_django):
                    if error is None:
                        outcome.migrated.append(schema)
                        outcome.django_path += 1
                    else:
                        outcome.failed[schema] = error

    # --- migration plan -------------------------------------------------------------------

    def _full_plan(self) -> list[Migration]:
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        self.loader = executor.loader
        return [migration for migration, _ in executor.migration_plan(targets, clean_start=True)]

    @staticmethod
    def _is_applied(migration: Migration, applied: set[MigrationKey]) -> bool:
        if (migration.app_label, migration.name) in applied:
            return True
        # A squashed migration counts as applied once everything it replaces is.
        return bool(migration.replaces) and all(key in applied for key in migration.replaces)

    def _compile(self, keys: tuple[MigrationKey, ...], *, representative: str) -> CompiledPlan:
        migrations = [self.loader.graph.nodes[key] for key in keys]
        if not all(_compilable(migration) for migration in migrations):
            return CompiledPlan(keys=keys, statements=None)
        # The router decides per app whether a migration touches a tenant schema by looking
        # at the connection's schema; schema editors may also introspect constraint names, so
        # compile against a schema that is still at the starting point (all are clones).
        connection.set_schema(representative)
        try:
            statements = self.loader.collect_sql([(migration, False) for migration in migrations])
        finally:
            connection.set_schema_to_public()
        rows = sql.SQL(", ").join(
            sql.SQL("({}, {}, now())").format(sql.Literal(app), sql.Literal(name))
            for app, name in keys
        )
        content_types = self._content_types()
        script = "\n".join(statements) + "\n"
        script += sql.SQL("INSERT INTO django_migrations (app, name, applied) VALUES {};\n").format(
            rows).as_string(None)
        if content_types:
            script += sql.SQL(
                "INSERT INTO django_content_type (app_label, model) VALUES {} "
                "ON CONFLICT (app_label, model) DO NOTHING;\n"
            ).format(sql.SQL(", ").join(
                sql.SQL("({}, {})").format(sql.Literal(app), sql.Literal(model))
                for app, model in content_types
            )).as_string(None)
        return CompiledPlan(keys=keys, statements=script)

    def _content_types(self) -> list[tuple[str, str]]:
        # `migrate` creates content types in its post_migrate signal; the compiled path adds
        # the rows for tenant apps' models itself (idempotent), so generic relations work.
        tenant_apps = set(settings.TENANT_APPS)
        if "django.contrib.contenttypes" not in tenant_apps:
            return []
        labels = {
            app_config.label for app_config in apps.get_app_configs()
            if app_config.name in tenant_apps
        }
        state = self.loader.project_state()
        return sorted(
            (app_label, model_name)
            for (app_label, model_name), model_state in state.models.items()
            if app_label in labels and model_state.options.get("managed", True)
            and not model_state.options.get("proxy", False)
        )

    # --- per-schema work on plain psycopg connections -------------------------------------

    def _db(self) -> psycopg.Connection:
        db = getattr(self.local, "db", None)
        if db is None or db.closed:
            params = {
                key: value for key, value in connection.get_connection_params().items()
                if key not in _DJANGO_ONLY_PARAMS
            }
            db = psycopg.connect(**params, autocommit=True)
            self.local.db = db
            with self.opened_lock:
                self.opened.append(db)
        return db

    def _applied(self, schema: str) -> set[MigrationKey]:
        with self._db().cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT app, name FROM {}.django_migrations").format(
                    sql.Identifier(schema))
            )
            return set(cursor.fetchall())

    def _apply(self, schema: str, compiled: CompiledPlan) -> None:
        db = self._db()
        started = time.perf_counter()
        with db.transaction(), db.cursor() as cursor:
            cursor.execute(
                sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema))
            )
            cursor.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.lock_timeout))
            )
            # One round trip: the whole script runs as a single simple-protocol query.
            cursor.execute(compiled.statements.encode())
        if self.verbosity >= 2:
            elapsed = (time.perf_counter() - started) * 1000
            self.stdout.write(f"  {schema}: {len(compiled.keys)} migration(s) in {elapsed:.0f}ms")

    def _parallel(self, function, schemas: list[str]) -> dict[str, object]:
        """Run function(schema) on the worker threads; map each schema to its result/error."""

        def guarded(schema: str):
            try:
                return function(schema)
            except Exception as error:
                return error

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(zip(schemas, pool.map(guarded, schemas), strict=True))
