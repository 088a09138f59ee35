"""Key rules: every stored object of a tenant lives under `tenants/<tenant uuid>/`, and a key
that came from anywhere (a client, a row, a token) is checked before it is touched."""

from __future__ import annotations

from django.db import connection

from learning.storage.errors import KeyRefused
from tenants.storage import tenant_storage_prefix


def tenant_prefix(tenant=None) -> str:
    """`tenants/<tenant uuid>/` for `tenant`, or for the tenant whose schema is active."""
    tenant = tenant if tenant is not None else getattr(connection, "tenant", None)
    if getattr(tenant, "public_id", None) is None:
        raise KeyRefused("Stored media belongs to a tenant; no tenant is active.")
    return tenant_storage_prefix(tenant)


def media_prefix(media_public_id) -> str:
    """The folder of one media file: its source and everything made from it."""
    return f"{tenant_prefix()}media/{media_public_id}/"


def check_key(key: str, *, tenant=None) -> str:
    """Return `key` if it is a plain relative key inside the tenant's folder, else refuse."""
    parts = key.split("/")
    if key.startswith("/") or any(part in ("", ".", "..") for part in parts[:-1]) or (
        parts[-1] in (".", "..")
    ):
        raise KeyRefused(f"Not a plain storage key: {key!r}")
    if not key.startswith(tenant_prefix(tenant)):
        raise KeyRefused(f"Key outside the current tenant's folder: {key!r}")
    return key
