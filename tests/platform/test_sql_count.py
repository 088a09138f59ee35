"""The statement counter (tests.support.sql_count) sees every statement, down to the raw
psycopg cursors that django-tenants may use for `SET search_path`."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import tenant_context

from learning.models import Exercise
from tests.support.sql_count import count_statements


def test_counts_the_tenant_search_path_and_the_query(school_a):
    with count_statements() as statements, tenant_context(school_a.tenant):
        list(Exercise.objects.all()[:1])
    assert statements[0].startswith("SET search_path")
    assert school_a.tenant.schema_name in statements[0]
    assert "learning_exercise" in statements[-1]


def test_counts_statements_on_a_raw_psycopg_cursor(db):
    connection.ensure_connection()
    with count_statements() as statements, connection.connection.cursor() as raw:
        raw.execute("SELECT 1")
    assert statements == ["SELECT 1"]


def test_stops_counting_after_the_block(school_a):
    with count_statements() as statements:
        pass
    with tenant_context(school_a.tenant):
        list(Exercise.objects.all()[:1])
    assert statements == []
