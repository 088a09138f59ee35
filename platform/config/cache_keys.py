"""Cache keys: tenant-scoped, except the counters of rate limits, which are kept once.

So are the page-chrome keys of tenants.chrome, which name their tenant themselves. Every other
key carries the current schema (django_tenants.cache.make_key), so one tenant never
reads another's cached values. Rate-limit counters must not: allauth's limits (login, failed
logins, sign-up, password reset) and DRF's throttles count a client or an address across every
host, or each tenant subdomain would hand an attacker a fresh allowance. Their keys go in the
public schema's key space whatever the request's host.
"""

from __future__ import annotations

from django_tenants.cache import make_key as tenant_make_key
from django_tenants.cache import reverse_key as tenant_reverse_key
from django_tenants.utils import get_public_schema_name

# allauth.core.internal.ratelimit: "allauth:rl:<app>:<action>:<rate>:<source>" (and its
# ":lock" keys); rest_framework.throttling.SimpleRateThrottle.cache_format: "throttle_...".
RATE_LIMIT_PREFIXES = ("allauth:rl:", "throttle_")
# tenants.chrome: the host → tenant lookup (read before a schema is selected) and the page
# chrome, whose keys name the tenant's id themselves.
SHARED_PREFIXES = (*RATE_LIMIT_PREFIXES, "page-chrome:")


def make_key(key: str, key_prefix: str, version: int) -> str:
    if key.startswith(SHARED_PREFIXES):
        return f"{get_public_schema_name()}:{key_prefix}:{version}:{key}"
    return tenant_make_key(key, key_prefix, version)


reverse_key = tenant_reverse_key
