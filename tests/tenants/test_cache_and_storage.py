"""Isolation outside the database: cached values and stored files are scoped to a tenant."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from config.redis_cache import RedisCache
from learning.storage import check_key
from tenants.models import tenant_logo_path
from tenants.storage import tenant_storage_prefix

# --- Cache --------------------------------------------------------------------------------


def test_a_value_cached_inside_school_a_is_not_visible_inside_school_b(schools, db):
    key = f"dashboard-{uuid.uuid4().hex}"

    with tenant_context(schools.a.tenant):
        cache.set(key, "school A's numbers")
    with tenant_context(schools.b.tenant):
        seen_in_b = cache.get(key)
        cache.set(key, "school B's numbers")
    with tenant_context(schools.a.tenant):
        seen_in_a = cache.get(key)
    with schema_context("public"):
        seen_in_public = cache.get(key)

    assert seen_in_b is None
    assert seen_in_a == "school A's numbers"
    assert seen_in_public is None


def test_deleting_in_one_tenant_leaves_the_others_value(schools, db):
    key = f"counter-{uuid.uuid4().hex}"
    for school in (schools.a, schools.b):
        with tenant_context(school.tenant):
            cache.set(key, school.tenant.slug)

    with tenant_context(schools.a.tenant):
        cache.delete(key)
        assert cache.get(key) is None
    with tenant_context(schools.b.tenant):
        assert cache.get(key) == "school-b"


def test_cache_keys_carry_the_schema(schools, db):
    with tenant_context(schools.a.tenant):
        key = cache.make_key("x")

    assert key.startswith(f"{schools.a.tenant.schema_name}:")


@pytest.mark.services
def test_tenant_keys_are_separate_in_redis_too(schools, db):
    # The test settings use a local-memory cache; production uses Redis with the same key
    # function. REDIS_URL must be set for this test (it fails, never skips, without it).
    redis = RedisCache(
        os.environ["REDIS_URL"],
        {
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
    )
    key = f"practika-test-{uuid.uuid4().hex}"
    try:
        with tenant_context(schools.a.tenant):
            redis.set(key, "A", timeout=60)
        with tenant_context(schools.b.tenant):
            assert redis.get(key) is None
        with tenant_context(schools.a.tenant):
            assert redis.get(key) == "A"
    finally:
        with tenant_context(schools.a.tenant):
            redis.delete(key)
    assert connection.schema_name == "public"


def test_logo_uploads_follow_the_same_layout(schools, db):
    path = tenant_logo_path(schools.a.tenant, "Logo.PNG")

    assert path.startswith(tenant_storage_prefix(schools.a.tenant))
    assert check_key(path, tenant=schools.a.tenant) == path
    assert path.endswith(".png")
