"""Where a `next=` parameter may send someone after logging in (or out, or signing up).

Only to this host, or to the public site. `ALLOWED_HOSTS` (which allauth's default check uses)
lists every tenant's host through `.<base domain>`, so a login link on school A's host could
otherwise send people on to school B's host, or to a tenant set up to look like a login page:
a phishing aid. Moving between tenants goes through the login handover instead.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def allowed_hosts(*, request: HttpRequest) -> set[str]:
    base = settings.BASE_DOMAIN
    return {request.get_host(), base, f"{base}{settings.PUBLIC_PORT}"}


def is_safe_redirect(url: str, *, request: HttpRequest) -> bool:
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts=allowed_hosts(request=request), require_https=request.is_secure()
    )
