"""Background tasks run in the schema of the tenant that queued them — checked with a real
worker process and a real broker (Redis), not an eager in-process shortcut."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from tenant_schemas_celery.app import CeleryApp

from config.celery_app import app
from tenants.tasks import tenant_worker_ping, tenant_worker_ping_queue


def test_the_project_celery_app_carries_the_tenant_schema():
    # A plain Celery app would run every task in `public`.
    assert isinstance(app, CeleryApp)
    assert tenant_worker_ping.app is app


@pytest.mark.services
def test_tasks_queued_in_school_a_and_school_b_run_in_their_own_schemas(
    celery_worker, schools, db
):
    # Interleaved, so the worker has to switch schemas from one message to the next.
    queued = [
        (school, tenant_worker_ping_queue(tenant=school.tenant, queue=celery_worker.queue))
        for school in (schools.a, schools.b, schools.a)
    ]
    assert connection.schema_name == "public"  # queueing left this process where it was

    for school, result in queued:
        assert celery_worker.wait(result) == {
            "schema": school.tenant.schema_name,
            "tenant": school.tenant.slug,
            "expected_schema": school.tenant.schema_name,
            "ok": True,
        }


@pytest.mark.services
def test_a_task_queued_outside_any_tenant_runs_in_public(celery_worker, schools, db):
    with schema_context("public"):
        result = tenant_worker_ping.apply_async(
            kwargs={"expected_schema": "public"}, queue=celery_worker.queue
        )

    answer = celery_worker.wait(result)

    assert answer["schema"] == "public"
    assert answer["ok"] is True
