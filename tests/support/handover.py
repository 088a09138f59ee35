"""Following the login handover (tenants.handover) the way a browser does: from the tenant's
host to the public site and back, each host with its own cookies."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client


def follow_handover(location: str, *, public: Client, tenant: Client | None = None):
    """Open a handover URL with `tenant` (a fresh browser on the tenant's host if None) and
    `public` (the same browser on the public site); return the tenant client and the last
    response of the handover (a redirect into the tenant when it worked)."""
    url = urlsplit(location)
    tenant = tenant or Client(HTTP_HOST=url.hostname)
    client, response = tenant, tenant.get(f"{url.path}?{url.query}")
    for _ in range(6):
        if response.status_code not in (301, 302, 303):
            break
        target = urlsplit(response["Location"])
        if not target.hostname:
            break  # into the tenant (the ticket's next path): the handover is over
        client = public if target.hostname == settings.BASE_DOMAIN else tenant
        response = client.get(f"{target.path}?{target.query}" if target.query else target.path)
    return tenant, response
