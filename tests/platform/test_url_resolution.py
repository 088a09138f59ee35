"""config.url_resolution: the production handlers remember each path's resolution, and answer
exactly as Django's own handler does (a 404 stays a 404, the public site keeps its URLconf)."""

from __future__ import annotations

from unittest import mock

from django.test import Client
from django.test.client import ClientHandler
from django.urls.resolvers import URLResolver

from config import url_resolution


class Handler(url_resolution.RememberedResolution, ClientHandler):
    """The test client's handler (Django's, without closing the test's connection) with the
    mixin of config.wsgi's and config.asgi_handler's."""


def _client(host: str) -> Client:
    client = Client(HTTP_HOST=host)
    client.handler = Handler()
    return client


def test_a_path_is_resolved_once_and_answered_the_same(school_a, public_host):
    url_resolution.forget()
    tenant, public = _client(school_a.host), _client(public_host)
    with mock.patch.object(
        URLResolver, "resolve", autospec=True, side_effect=URLResolver.resolve
    ) as resolve:
        assert tenant.get("/accounts/login/").status_code == 200
        resolved = resolve.call_count
        assert resolved > 0
        assert [tenant.get("/accounts/login/").status_code for _ in range(2)] == [200, 200]
        assert resolve.call_count == resolved  # remembered

        assert [public.get("/accounts/login/").status_code for _ in range(2)] == [200, 200]
        assert resolve.call_count > resolved  # the public site's URLconf: resolved on its own
        resolved = resolve.call_count
        assert [public.get("/no-such-page/").status_code for _ in range(2)] == [404, 404]
        assert resolve.call_count > resolved
    assert not any(path == "/no-such-page/" for _, path in url_resolution._matches)
