"""The spare-schema refill (tenants.schema_pool) run by a real worker process on a real broker:
the spares it commits are there for the next sign-up in this process to take."""

# Table names from the models and the test's own constants, never input.
# ruff: noqa: S608

from __future__ import annotations

import pytest
from django.db import connection

from tenants import services
from tenants.models import AuditEvent, Domain, Membership, SpareSchema, Tenant, User
from tenants.tasks import spare_schemas_refill

SLUG = "spare-worker-test"


def _cleanup() -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        for tenant in Tenant.objects.filter(slug=SLUG):
            cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
            for model in (AuditEvent, Membership, Domain):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE tenant_id = %s",
                    [tenant.pk],
                )
            cursor.execute(f"DELETE FROM {Tenant._meta.db_table} WHERE id = %s", [tenant.pk])
        cursor.execute(
            f"DELETE FROM {User._meta.db_table} WHERE email = %s", [f"{SLUG}@example.com"]
        )
        for spare in SpareSchema.objects.all():
            cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
            spare.delete()


@pytest.fixture
def empty_pool(schools, django_db_blocker):
    with django_db_blocker.unblock():  # the worker sees only what this process commits
        _cleanup()
        yield
        _cleanup()


@pytest.mark.services
def test_the_worker_fills_the_pool_and_a_sign_up_takes_a_spare(celery_worker, empty_pool, settings):
    answer = celery_worker.wait(spare_schemas_refill.apply_async(queue=celery_worker.queue))

    assert answer == {"discarded": 0, "created": settings.TENANT_SPARE_SCHEMAS}
    spares = set(SpareSchema.objects.values_list("schema_name", flat=True))
    assert len(spares) == settings.TENANT_SPARE_SCHEMAS
    owner = User.objects.create_user(email=f"{SLUG}@example.com", password=None)
    tenant = services.tenant_create(name="Spare", slug=SLUG, kind="studio", owner=owner)
    left = set(SpareSchema.objects.values_list("schema_name", flat=True))
    (taken,) = spares - left
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
            [[taken, tenant.schema_name]],
        )
        assert cursor.fetchall() == [(tenant.schema_name,)]  # renamed into place
