"""Where a tenant's files live in storage: every key starts with `tenants/<tenant uuid>/`.

The prefix is the tenant's public id, never its slug: a slug can be renamed or, after a
tenant is gone, taken by someone else, while a UUID is never reused. Code that stores or
serves a file builds the key with `tenant_storage_path` and checks any key that came from
outside (a client, a database row, a presigned-upload callback) with `assert_tenant_path`
before touching it.
"""

from __future__ import annotations

import posixpath

from tenants.errors import PermissionDenied
from tenants.models import Tenant

ROOT = "tenants"


def tenant_storage_prefix(tenant: Tenant) -> str:
    return f"{ROOT}/{tenant.public_id}/"


def _clean_part(part: str) -> str:
    part = str(part).strip("/")
    if not part or "\\" in part or "\x00" in part:
        raise ValueError(f"Not a usable storage path part: {part!r}")
    if any(segment in ("", ".", "..") for segment in part.split("/")):
        raise ValueError(f"Storage path parts cannot step outside their folder: {part!r}")
    return part


def tenant_storage_path(tenant: Tenant, *parts: str) -> str:
    """`tenants/<tenant uuid>/<parts...>`; a part cannot climb out with `..`."""
    if not parts:
        raise ValueError("Name the file inside the tenant's folder.")
    return tenant_storage_prefix(tenant) + "/".join(_clean_part(p) for p in parts)


def assert_tenant_path(tenant: Tenant, key: str) -> str:
    """Return `key` if it names a file inside `tenant`'s folder; raise PermissionDenied if not.

    The key is judged as written and as normalised, so `tenants/<A>/../<B>/x` and absolute or
    backslashed keys are refused rather than resolved.
    """
    prefix = tenant_storage_prefix(tenant)
    inside = (
        isinstance(key, str)
        and key.startswith(prefix)
        and len(key) > len(prefix)
        and "\\" not in key
        and "\x00" not in key
        and posixpath.normpath(key) == key
        and ".." not in key.split("/")
    )
    if not inside:
        raise PermissionDenied(
            "This file does not belong to this school or studio.", code="storage_path_forbidden"
        )
    return key
