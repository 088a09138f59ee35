"""The pool of spare schemas (tenants.schema_pool): sign-ups take distinct, up-to-date spares,
clone when none is free, and a spare is never reachable as a tenant.

The all-or-nothing tests (a failed sign-up leaves the spare a spare) are in test_clone.py. The
concurrent tests here commit, since other connections see only committed spares, and clean up
after themselves.
"""

# Schema names in the SQL below come from the pool or the tests' own constants, never input.
# ruff: noqa: S608

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client

from tenants import clone, schema_pool, selectors, services, tasks
from tenants.models import AuditEvent, Domain, Membership, SpareSchema, Tenant, User

SLUG_PREFIX = "pool-test-"
PASSWORD = "correct-horse-battery-staple"


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [schema])
        return cursor.fetchone()[0]


def _spares() -> set[str]:
    return set(SpareSchema.objects.values_list("schema_name", flat=True))


@pytest.fixture
def no_spares(db):
    SpareSchema.objects.all().delete()  # rolled back with the test


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user(email="pool-owner@example.com", password=None)


def _template_records_a_migration() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{settings.TENANT_BASE_SCHEMA}".django_migrations (app, name, applied) '
            "VALUES ('pool_probe', '0001_initial', now())"
        )


def test_a_sign_up_takes_the_oldest_spare_and_queues_a_refill(
    no_spares, owner, django_capture_on_commit_callbacks, monkeypatch
):
    schema_pool.spares_refill(size=2)
    oldest, newer = SpareSchema.objects.order_by("id")
    queued = []
    monkeypatch.setattr(tasks.spare_schemas_refill, "delay", lambda: queued.append(True))

    with django_capture_on_commit_callbacks(execute=True):
        tenant = services.tenant_create(
            name="Pool", slug=f"{SLUG_PREFIX}a", kind="studio", owner=owner
        )

    assert _spares() == {newer.schema_name}
    assert not _schema_exists(oldest.schema_name)
    assert _schema_exists(tenant.schema_name)
    assert queued == [True]


def test_with_no_spare_a_sign_up_clones_the_template(no_spares, owner):
    tenant = services.tenant_create(name="Pool", slug=f"{SLUG_PREFIX}b", kind="studio", owner=owner)

    assert _schema_exists(tenant.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{tenant.schema_name}".django_migrations')
        recorded = cursor.fetchone()[0]
        cursor.execute(f'SELECT count(*) FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations')
        assert recorded == cursor.fetchone()[0] > 0


def test_a_spare_made_before_a_migration_is_never_taken_and_the_refill_replaces_it(
    no_spares, owner
):
    schema_pool.spares_refill(size=1)
    (stale,) = _spares()
    _template_records_a_migration()  # as migrate_template or migrate_schemas would

    tenant = services.tenant_create(name="Pool", slug=f"{SLUG_PREFIX}c", kind="studio", owner=owner)

    assert _spares() == {stale}  # cloned instead: the new tenant has the new migration
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{tenant.schema_name}".django_migrations '
            "WHERE app = 'pool_probe'"
        )
        assert cursor.fetchone()[0] == 1

    refill = schema_pool.spares_refill(size=1)

    assert (refill.discarded, refill.created) == (1, 1)
    assert not _schema_exists(stale)
    (fresh,) = SpareSchema.objects.all()
    assert fresh.template_migrations == clone.template_migrations()


def test_a_template_changed_by_hand_has_its_spares_dropped_by_the_next_refill(no_spares):
    schema_pool.spares_refill(size=1)
    (stale,) = _spares()
    with connection.cursor() as cursor:
        cursor.execute(
            f'ALTER TABLE "{settings.TENANT_BASE_SCHEMA}".django_migrations ADD COLUMN probe int'
        )

    refill = schema_pool.spares_refill(size=1)

    assert (refill.discarded, refill.created) == (1, 1)
    assert not _schema_exists(stale)
    (fresh,) = _spares()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'django_migrations' AND column_name = 'probe'",
            [fresh],
        )
        assert cursor.fetchone()[0] == 1


def test_a_spare_whose_schema_is_gone_is_skipped_and_discarded(no_spares, owner):
    schema_pool.spares_refill(size=1)
    (gone,) = _spares()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{gone}" CASCADE')

    tenant = services.tenant_create(name="Pool", slug=f"{SLUG_PREFIX}d", kind="studio", owner=owner)

    assert _schema_exists(tenant.schema_name)  # cloned, not an error
    assert schema_pool.spares_refill(size=0).discarded == 1
    assert _spares() == set()


def test_the_refill_task_fills_the_pool_once(no_spares, settings):
    settings.TENANT_SPARE_SCHEMAS = 2

    first = tasks.spare_schemas_refill.apply().get()
    second = tasks.spare_schemas_refill.apply().get()

    assert first == {"discarded": 0, "created": 2}
    assert second == {"discarded": 0, "created": 0}
    assert len(_spares()) == 2
    assert all(name.startswith(schema_pool.SPARE_PREFIX) for name in _spares())
    assert all(_schema_exists(name) for name in _spares())


def test_a_template_that_needs_clone_schema_gets_no_spares(no_spares):
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE VIEW "{template}".pool_probe_view AS SELECT app FROM '
            f'"{template}".django_migrations'
        )

    assert schema_pool.spares_refill(size=2).created == 0
    assert _spares() == set()


def test_a_spare_is_not_reachable_by_any_host_nor_listed_as_a_tenant(no_spares, schools):
    schema_pool.spares_refill(size=1)
    (spare,) = _spares()
    base = settings.BASE_DOMAIN

    for host in (f"{spare}.{base}", f"{spare.replace('_', '-')}.{base}"):
        response = Client(HTTP_HOST=host).get("/")
        assert response.status_code in (400, 404), host  # 400: `_` is not valid in a host
    assert not Tenant.objects.filter(schema_name=spare).exists()
    assert not Domain.objects.filter(tenant__schema_name=spare).exists()
    assert spare not in {tenant.schema_name for tenant in selectors.tenants_for_staff()}


# --- concurrent sign-ups, on committed data -------------------------------------------------


def _cleanup() -> None:
    connection.set_schema_to_public()
    tenants = list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX))
    ids = [tenant.pk for tenant in tenants]
    with connection.cursor() as cursor:
        for tenant in tenants:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
        # Raw deletes: Django's cascade would also visit tenant-schema tables public lacks.
        for model in (AuditEvent, Membership, Domain):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE tenant_id = ANY(%s)", [ids])
        cursor.execute(f"DELETE FROM {Tenant._meta.db_table} WHERE id = ANY(%s)", [ids])
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE actor_id IN "
            f"(SELECT id FROM {User._meta.db_table} WHERE email LIKE 'pool-test-%%')"
        )
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE email LIKE 'pool-test-%%'")
    # The pool is disposable: these tests start and end with it empty.
    for spare in SpareSchema.objects.all():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
        spare.delete()


@pytest.fixture
def committed(schools, django_db_blocker):
    with django_db_blocker.unblock():
        _cleanup()
        yield
        _cleanup()


def _in_threads(count: int, work) -> list:
    """Run work(index) on `count` threads, each on its own connection, started together."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_sign_ups_holding_spares_at_once_hold_distinct_ones(committed):
    schema_pool.spares_refill(size=2)
    both_hold = threading.Barrier(2)

    def take(_index):
        with transaction.atomic():
            spare = schema_pool.spare_take()
            both_hold.wait(timeout=30)  # neither commits before the other has taken one
            transaction.set_rollback(True)
        return spare

    taken = _in_threads(2, take)

    assert all(isinstance(spare, str) for spare in taken), taken
    assert set(taken) == _spares()  # two distinct spares; both rolled back: still spares


def test_a_sign_up_never_waits_for_a_spare_another_sign_up_holds(committed):
    schema_pool.spares_refill(size=1)
    (held,) = _spares()
    holding, done = threading.Event(), threading.Event()
    owner = User.objects.create_user(email="pool-test-wait@example.com", password=None)

    def hold(_index):
        with transaction.atomic():
            assert schema_pool.spare_take() == held
            holding.set()
            done.wait(timeout=20)  # were the sign-up to wait for this lock, 20 s here
            transaction.set_rollback(True)

    holder = threading.Thread(target=_in_threads, args=(1, hold))
    holder.start()
    assert holding.wait(timeout=30)
    started = time.monotonic()
    tenant = services.tenant_create(
        name="Pool", slug=f"{SLUG_PREFIX}wait", kind="studio", owner=owner
    )
    elapsed = time.monotonic() - started
    done.set()
    holder.join(timeout=60)

    assert elapsed < 10, elapsed  # cloned at once instead of waiting for the held spare
    assert _schema_exists(tenant.schema_name)
    assert _spares() == {held} and _schema_exists(held)


def test_concurrent_sign_ups_each_get_a_schema_and_never_wait_for_a_spare(committed):
    schema_pool.spares_refill(size=2)
    spares = _spares()
    owners = [
        User.objects.create_user(email=f"pool-test-{index}@example.com", password=None)
        for index in range(3)
    ]

    def sign_up(index):
        return services.tenant_create(
            name=f"Pool {index}",
            slug=f"{SLUG_PREFIX}{index}",
            kind="studio",
            owner=owners[index],
        )

    created = _in_threads(3, sign_up)

    assert all(isinstance(tenant, Tenant) for tenant in created), created
    # Two took the two spares, the third cloned; none got a schema another one got.
    assert _spares() == set()
    assert all(not _schema_exists(spare) for spare in spares)
    schemas = {tenant.schema_name for tenant in created}
    assert len(schemas) == 3 and all(_schema_exists(schema) for schema in schemas)
    assert Tenant.objects.filter(slug__startswith=SLUG_PREFIX).count() == 3


def test_a_failed_sign_up_transaction_gives_its_spare_back(committed, monkeypatch):
    schema_pool.spares_refill(size=1)
    (spare,) = _spares()
    owner = User.objects.create_user(email="pool-test-fail@example.com", password=None)

    def failing_audit(**kwargs):
        raise RuntimeError("audit store is down")

    monkeypatch.setattr("tenants.services.lifecycle.audit", failing_audit)
    with pytest.raises(RuntimeError, match="audit store is down"):
        services.tenant_create(name="Pool", slug=f"{SLUG_PREFIX}fail", kind="studio", owner=owner)

    assert _spares() == {spare} and _schema_exists(spare)
    assert not Tenant.objects.filter(slug=f"{SLUG_PREFIX}fail").exists()
    # And the next sign-up takes it.
    monkeypatch.undo()
    tenant = services.tenant_create(
        name="Pool", slug=f"{SLUG_PREFIX}next", kind="studio", owner=owner
    )
    assert _spares() == set() and not _schema_exists(spare)
    assert _schema_exists(tenant.schema_name)


@pytest.mark.parametrize("spares", [0, 1])
def test_concurrent_sign_ups_with_new_accounts_all_succeed_when_they_must_clone(committed, spares):
    # Each inserts its user, then needs a schema: a clone locks the users table, so without
    # schema_reserve two of them would wait for each other and PostgreSQL would abort one.
    schema_pool.spares_refill(size=spares)

    def sign_up(index):
        return services.signup_with_tenant(
            email=f"pool-test-signup-{index}@example.com",
            password=PASSWORD,
            full_name="Pool",
            tenant_name=f"Pool {index}",
            slug=f"{SLUG_PREFIX}s{index}",
            kind="studio",
        )

    results = _in_threads(3, sign_up)

    assert all(isinstance(result, services.SignupResult) for result in results), results
    assert all(_schema_exists(result.tenant.schema_name) for result in results)
    assert _spares() == set()


def test_concurrent_refills_take_turns_and_never_overfill_the_pool(committed):
    results = _in_threads(3, lambda _index: schema_pool.spares_refill(size=2))

    assert all(isinstance(result, schema_pool.Refill) for result in results), results
    assert sum(result.created for result in results) == 2
    assert len(_spares()) == 2 and all(_schema_exists(spare) for spare in _spares())
