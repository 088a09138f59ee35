"""Where a tenant's files live in storage: every key starts with `tenants/<tenant uuid>/`.

The prefix is the tenant's public id, never its slug: a slug can be renamed or, after a
tenant is gone, taken by someone else, while a UUID is never reused. learning.storage builds
every key under this prefix and checks any key that came from outside (a client, a database
row, a token) before touching it (`learning.storage.keys.check_key`).
"""

from __future__ import annotations

from tenants.models import Tenant

ROOT = "tenants"


def tenant_storage_prefix(tenant: Tenant) -> str:
    return f"{ROOT}/{tenant.public_id}/"
