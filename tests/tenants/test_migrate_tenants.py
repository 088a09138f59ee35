"""`manage.py migrate_tenants`: parallel roll-out across tenant schemas, resumable.

The migrations rolled out come from throwaway apps under tests/tenants/ installed only for
these tests. Schemas are real clones of the template and are dropped afterwards; the tests
commit (parallel connections see only committed schemas), so they clean up after themselves.
"""

# Schema names in the SQL below are the tests' own constants, never input.
# ruff: noqa: S608

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from tenants import schema_pool
from tenants.clone import clone_template_schema
from tenants.models import SpareSchema, Tenant

PREFIX = "mt_test_"
FIXTURE_APPS = {
    "migrate_fixture": "tests.tenants.migrate_fixture",
    "migrate_fixture_python": "tests.tenants.migrate_fixture_python",
}


def _fetch(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _execute(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)


def _cleanup(template):
    connection.set_schema_to_public()
    # Raw delete: these rows have nothing pointing at them (bulk-created, no members).
    _execute(f"DELETE FROM {Tenant._meta.db_table} WHERE schema_name LIKE 'mt\\_test\\_%%'")
    for (schema,) in _fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mt\\_test\\_%%'"):
        _execute(f'DROP SCHEMA "{schema}" CASCADE')
    schemas = [template, *Tenant.objects.exclude(schema_name="public").values_list(
        "schema_name", flat=True)]
    labels = list(FIXTURE_APPS)
    for schema in schemas:
        _execute(
            f'DROP TABLE IF EXISTS "{schema}".migrate_fixture_probe, '
            f'"{schema}".migrate_fixture_python_seeded'
        )
        _execute(f'DELETE FROM "{schema}".django_migrations WHERE app = ANY(%s)', [labels])
        _execute(f'DELETE FROM "{schema}".django_content_type WHERE app_label = ANY(%s)', [labels])
    # Spares the runs cloned from the template with the fixtures in it.
    schema_pool.spares_discard_stale()


def _install(settings, *labels):
    modules = [FIXTURE_APPS[label] for label in labels]
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, *modules]
    settings.TENANT_APPS = [*settings.TENANT_APPS, *modules]


def _clones(count):
    names = [f"{PREFIX}{index:02d}" for index in range(count)]
    Tenant.objects.bulk_create(
        Tenant(schema_name=name, slug=name.replace("_", "-"), name=name, kind="school")
        for name in names
    )
    # One transaction each, as sign-ups make them: fifty in one would hold a lock on every
    # table, index and sequence of fifty schemas (past max_locks_per_transaction).
    for name in names:
        with transaction.atomic():
            clone_template_schema(name)
    return names


@pytest.fixture
def committed_db(schools, django_db_blocker, settings):
    settings.TENANT_SPARE_SCHEMAS = 1  # each run refills the pool at the end
    with django_db_blocker.unblock():
        _cleanup(settings.TENANT_BASE_SCHEMA)
        yield
        _cleanup(settings.TENANT_BASE_SCHEMA)


def _run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("migrate_tenants", "--workers=2", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def _fixture_migrations(schema, app="migrate_fixture"):
    return {
        name for (name,) in _fetch(
            f'SELECT name FROM "{schema}".django_migrations WHERE app = %s', [app]
        )
    }


def _has_level_column_and_index(schema):
    columns = _fetch(
        "SELECT column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'migrate_fixture_probe'", [schema],
    )
    indexes = _fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
        [schema, "probe_level_name_idx"],
    )
    return ("level", None) in columns and len(indexes) == 1


def test_rolls_out_to_50_schemas_and_resumes_after_a_failure_in_one(committed_db, settings):
    _install(settings, "migrate_fixture")
    schemas = _clones(50)
    broken = schemas[7]
    # A table already sits where the migration creates its table: this schema must fail.
    _execute(f'CREATE TABLE "{broken}".migrate_fixture_probe (id integer)')

    out, err, error = _run()

    assert error is not None, out
    assert f"FAILED {broken}" in err
    both = {"0001_initial", "0002_probe_level"}
    for schema in [settings.TENANT_BASE_SCHEMA, *schemas]:
        if schema == broken:
            continue
        assert _fixture_migrations(schema) == both, schema
        assert _has_level_column_and_index(schema), schema
    # The failed schema was rolled back whole: no migration recorded, its own table intact.
    assert _fixture_migrations(broken) == set()
    assert _fetch(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'migrate_fixture_probe'", [broken],
    ) == [(1,)]
    # New models get their content type in every schema, as `migrate` would create it.
    assert _fetch(
        f'SELECT count(*) FROM "{schemas[0]}".django_content_type '
        "WHERE app_label = 'migrate_fixture' AND model = 'probe'"
    ) == [(1,)]

    _execute(f'DROP TABLE "{broken}".migrate_fixture_probe')
    out, err, error = _run()

    assert error is None, err
    assert "migrate_tenants: 1 migrated (1 by compiled SQL" in out
    assert " 0 failed" in out
    assert _fixture_migrations(broken) == both
    assert _has_level_column_and_index(broken)

    out, _, error = _run()
    assert error is None
    assert "migrate_tenants: 0 migrated" in out


def test_spares_of_the_template_before_a_migration_are_replaced(committed_db, settings):
    schema_pool.spares_refill(size=1)
    (before,) = SpareSchema.objects.all()
    _install(settings, "migrate_fixture")

    out, err, error = _run()

    assert error is None, err
    assert "spare schemas: 1 discarded, 1 cloned" in out
    assert _fetch("SELECT nspname FROM pg_namespace WHERE nspname = %s", [before.schema_name]) == []
    (after,) = SpareSchema.objects.all()
    # A spare is not a tenant: it is replaced, not migrated, and the new one is up to date.
    assert "migrated (" in out and after.schema_name not in out
    assert _fixture_migrations(after.schema_name) == {"0001_initial", "0002_probe_level"}


def test_a_locked_table_fails_its_schema_quickly_instead_of_hanging(committed_db, settings):
    _install(settings, "migrate_fixture")
    schemas = _clones(3)
    _run("--schema", schemas[0], "--schema", schemas[1], "--schema", schemas[2])
    assert _fixture_migrations(schemas[1]) == {"0001_initial", "0002_probe_level"}
    # Roll the second migration back in one schema, then hold a lock on its table elsewhere.
    _execute(f'DROP INDEX "{schemas[1]}".probe_level_name_idx')
    _execute(f'ALTER TABLE "{schemas[1]}".migrate_fixture_probe DROP COLUMN level')
    _execute(
        f"DELETE FROM \"{schemas[1]}\".django_migrations WHERE app = 'migrate_fixture' "
        "AND name = '0002_probe_level'"
    )
    import psycopg

    params = {
        key: value for key, value in connection.get_connection_params().items()
        if key not in {"cursor_factory", "context", "prepare_threshold"}
    }
    with psycopg.connect(**params) as locker:
        locker.execute(f'LOCK TABLE "{schemas[1]}".migrate_fixture_probe IN ACCESS EXCLUSIVE MODE')
        # Should the lock timeout be ignored, the lock goes away after 60 s: the run then
        # succeeds late and the checks below fail, instead of the test hanging for ever.
        release = threading.Timer(60, locker.rollback)
        release.start()
        started = time.monotonic()
        try:
            _, err, error = _run("--schema", schemas[1], "--lock-timeout=200ms")
        finally:
            release.cancel()
        elapsed = time.monotonic() - started
        assert error is not None
        assert f"FAILED {schemas[1]}" in err
        assert "lock timeout" in err
        # 200 ms of waiting, plus start-up: a loaded 2-core machine stays far below this.
        assert elapsed < 30, elapsed
        locker.rollback()

    _, err, error = _run("--schema", schemas[1])
    assert error is None, err
    assert _has_level_column_and_index(schemas[1])


def test_run_python_migrations_go_through_djangos_executor(committed_db, settings):
    _install(settings, "migrate_fixture_python")
    schemas = _clones(3)

    out, err, error = _run(*[f"--schema={schema}" for schema in schemas])

    assert error is None, err
    assert "3 migrated (0 by compiled SQL, 3 by Django's executor)" in out
    for schema in schemas:
        assert _fetch(f'SELECT schema FROM "{schema}".migrate_fixture_python_seeded') == [
            (schema,)
        ]
        assert _fixture_migrations(schema, "migrate_fixture_python") == {"0001_initial"}


def test_unknown_schema_is_an_error(committed_db):
    with pytest.raises(CommandError, match="No tenant with schema nope"):
        call_command("migrate_tenants", "--schema=nope", stdout=StringIO())
