"""Production's connection pool (Django's psycopg pool, config.settings.production) with
django-tenants: a connection handed from one request to the next never runs a query in the
previous request's schema. Real PostgreSQL, and a pool of one connection shared by every
"request", so each request gets the very connection the previous one left in another schema.
"""

from __future__ import annotations

import copy

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import get_public_schema_name

ALIAS = "pool-test"


@pytest.fixture
def pooled(schools, django_db_blocker):
    """Make a per-request (per-thread) connection wrapper on one shared pool."""
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["OPTIONS"] = {
        **settings_dict["OPTIONS"],
        "pool": {"min_size": 1, "max_size": 1, "timeout": 10},
    }
    wrappers = []

    def new_request_connection():
        wrapper = type(connections["default"])(settings_dict, alias=ALIAS)
        connections[ALIAS] = wrapper  # what transaction.atomic(using=ALIAS) finds
        wrappers.append(wrapper)
        return wrapper

    with django_db_blocker.unblock():
        yield new_request_connection
        for wrapper in wrappers:
            wrapper.close()
        if wrappers:
            wrappers[0].close_pool()
        del connections[ALIAS]


def _where(wrapper) -> tuple[int, str]:
    """The server connection, and the schema unqualified table names resolve to."""
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_schema()")
        return cursor.fetchone()


def _tables_seen(wrapper) -> set[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT to_regclass('learning_exercise')::text IS NOT NULL")
        return cursor.fetchone()[0]


def test_a_pooled_connection_switches_tenants_from_request_to_request(pooled, schools):
    a, b = schools.a.tenant, schools.b.tenant

    first = pooled()
    first.set_tenant(a)
    pid, schema = _where(first)
    assert schema == a.schema_name and _tables_seen(first)
    first.close()  # the end of a request: the connection goes back to the pool

    second = pooled()
    second.set_tenant(b)
    assert _where(second) == (pid, b.schema_name)  # the same server connection, in B
    second.close()

    # A request that selects no tenant runs in public, not in the last request's schema:
    # there, the tenant tables do not resolve at all.
    third = pooled()
    assert _where(third) == (pid, get_public_schema_name())
    assert not _tables_seen(third)
    third.close()


def test_a_search_path_undone_by_a_rollback_is_set_again(pooled, schools):
    a, b = schools.a.tenant, schools.b.tenant
    wrapper = pooled()
    wrapper.set_tenant(b)
    _where(wrapper)
    wrapper.close()

    wrapper = pooled()
    wrapper.set_tenant(a)
    with pytest.raises(RuntimeError), transaction.atomic(using=ALIAS):
        assert _where(wrapper)[1] == a.schema_name  # SET inside the transaction...
        raise RuntimeError
    # ...is undone by the rollback (the server is back in B's schema); the backend knows and
    # sets it again before the next query.
    assert _where(wrapper)[1] == a.schema_name


def test_one_set_search_path_per_request(pooled, schools):
    from tests.support.sql_count import count_statements

    wrapper = pooled()
    wrapper.set_tenant(schools.a.tenant)
    with count_statements() as statements:
        for _ in range(3):
            _where(wrapper)
    assert [s for s in statements if s.startswith("SET search_path")] == [
        f'SET search_path = "{schools.a.tenant.schema_name}","public"'
    ]
    wrapper.close()
