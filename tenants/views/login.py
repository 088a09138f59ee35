"""The login page: allauth's, kept for signed-out visitors as the public home is.

The login page is what every visitor who is not signed in opens first, and one of the pages
a stranger can ask for in bulk; rendered each time it cost three times the public
home (its form, its widgets, the single sign-on buttons). Kept (tenants.page_cache, one copy
for all visitors per path, language and time zone), it costs what the public home does, with
a fresh CSRF token and allauth's no-cache headers on each answer. What it shows is kept safe
by the key: the `next` address is in the path; the school's name, kind and sign-on buttons
follow the tenant's generation, which a save of the tenant or of its `SchoolSignOn` drops;
the platform's providers, from settings, are part of the key. A signed-in person is
redirected by allauth, a visitor with messages to show (just signed out) gets the page
rendered, and nothing is kept for a POST.

`allauth_urls()` is allauth's URL list with its login view wrapped, for `include()` in place of
"allauth.urls": a route of our own in front of allauth's would leave allauth's unreachable
(tests/tenants/test_isolation.py resolves every route back to its view).
"""

from __future__ import annotations

import functools

from django.urls import URLPattern, URLResolver

from tenants.page_cache import cached_page
from tenants.sso.views import platform_providers

LOGIN_URL_NAME = "account_login"


def _providers(request) -> str:
    return ",".join(platform_providers())  # from settings: the same in every process


def _with_kept_login(patterns: list) -> list:
    entries = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            entry = URLResolver(
                entry.pattern,
                _with_kept_login(entry.url_patterns),
                entry.default_kwargs,
                entry.app_name,
                entry.namespace,
            )
        elif isinstance(entry, URLPattern) and entry.name == LOGIN_URL_NAME:
            view = cached_page(visitors=True, vary=_providers)(entry.callback)
            entry = URLPattern(entry.pattern, view, entry.default_args, entry.name)
        entries.append(entry)
    return entries


@functools.cache
def allauth_urls() -> list:
    from allauth import urls

    patterns = _with_kept_login(urls.urlpatterns)
    if not _names(patterns) >= {LOGIN_URL_NAME}:  # allauth moved it: nothing would be kept
        raise LookupError(f"allauth's URLs have no {LOGIN_URL_NAME!r} route")
    return patterns


def _names(patterns: list) -> set[str]:
    found = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _names(entry.url_patterns)
        elif entry.name:
            found.add(entry.name)
    return found
