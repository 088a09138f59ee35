"""A school of a test's own, committed (outside any test transaction) so that another
process or thread — a Celery worker — sees it, and removed with its schema and stored files
afterwards. `django_db(transaction=True)` would flush every table instead, including the
session-wide schools of tests/conftest.py that later tests rely on.

Use it inside `django_db_blocker.unblock()` (database access without a test transaction).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django_tenants.utils import tenant_context

from learning import storage
from learning.models import MediaFile
from tenants import services as tenant_services
from tenants.models import Membership, Role, Tenant, User


@contextmanager
def committed_school(label: str) -> Iterator[tuple[Tenant, User]]:
    """(tenant, student): a committed school with its owner and one student."""
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(email=f"owner-{tag}@{label}.example.com")
    student = User.objects.create_user(email=f"student-{tag}@{label}.example.com")
    tenant = tenant_services.tenant_create(
        name=f"{label} {tag}", slug=f"{label}-{tag}", kind="school", owner=owner
    )
    Membership.objects.create(user=student, tenant=tenant, role=Role.STUDENT)
    try:
        yield tenant, student
    finally:
        with tenant_context(tenant):
            # Tenant rows first: they PROTECT the users, whose deletion looks into this schema.
            MediaFile.objects.all().delete()
            prefix = storage.tenant_prefix()
            for user in (student, owner):
                user.delete()
        tenant.delete(force_drop=True)
        shutil.rmtree(Path(settings.PRIVATE_MEDIA_ROOT) / prefix, ignore_errors=True)
