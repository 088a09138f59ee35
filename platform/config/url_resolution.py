"""URL resolution remembered per path, in each web process.

Django resolves a request by trying the URLconf's patterns in order: for a page of a tenant's
host that is up to a hundred regular-expression matches in nested resolvers, a tenth of what a
kept page costs (tenants.page_cache, docs/scaling.md). The answer depends only on the URLconf
and the path, so the handlers of config.wsgi and config.asgi_handler remember the last
`MAX_PATHS` answers; a path that resolves to nothing (a 404) is never remembered. The matches
are shared between requests, as Django shares the resolver itself: nothing writes to one.
"""

from __future__ import annotations

import threading

from django.urls import set_urlconf

MAX_PATHS = 4096

_matches: dict = {}
_lock = threading.Lock()


class RememberedResolution:
    """A mixin for Django's handlers (BaseHandler.resolve_request)."""

    def resolve_request(self, request):
        urlconf = getattr(request, "urlconf", None)
        key = (urlconf, request.path_info)
        match = _matches.get(key)
        if match is None:
            match = super().resolve_request(request)
            with _lock:
                if len(_matches) >= MAX_PATHS:
                    _matches.clear()
                _matches[key] = match
            return match
        if urlconf is not None:  # as Django's own: the request's URLconf for reverse() too
            set_urlconf(urlconf)
        request.resolver_match = match
        return match


def forget() -> None:
    """Drop every remembered answer (tests that swap URLconfs)."""
    with _lock:
        _matches.clear()
