"""Fixtures for the core loop's tests.

Recordings are stored in a private folder per test session (never the development one), and
`in_tenant` enters a school's schema for code that, like a Celery task, runs inside it.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context


@pytest.fixture(scope="session")
def private_media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("private-media")


@pytest.fixture(autouse=True)
def _private_media_in_tmp(settings, private_media_root):
    settings.PRIVATE_MEDIA_ROOT = str(private_media_root)
    settings.AWS_STORAGE_BUCKET_NAME = ""


@pytest.fixture
def in_tenant():
    """`with in_tenant(school.tenant): ...` runs the block in that school's schema."""
    return tenant_context
