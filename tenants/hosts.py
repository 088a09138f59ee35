"""Host names and absolute URLs for the public site and for each tenant."""

from __future__ import annotations

from django.conf import settings


def tenant_hostname(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def tenant_url(slug: str, path: str = "/") -> str:
    return f"{settings.PUBLIC_SCHEME}://{tenant_hostname(slug)}{settings.PUBLIC_PORT}{path}"


def public_url(path: str = "/") -> str:
    return f"{settings.PUBLIC_SCHEME}://{settings.BASE_DOMAIN}{settings.PUBLIC_PORT}{path}"
