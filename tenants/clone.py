"""Creating a tenant's schema by cloning the migrated template schema.

The template (`settings.TENANT_BASE_SCHEMA`) is kept migrated by `manage.py migrate_template`.
Cloning copies its tables, sequences, constraints and its django_migrations rows, so a new
schema is born fully migrated. It runs on the caller's connection and inside the caller's
transaction: if anything later in tenant creation fails, the schema is rolled back with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django_tenants.clone import CloneSchema


def clone_template_schema(schema_name: str) -> None:
    connection.set_schema_to_public()
    CloneSchema().clone_schema(settings.TENANT_BASE_SCHEMA, schema_name, "DATA")
