"""config.url_resolution: the production handlers remember each path's resolution, and answer
exactly as Django's own handler does (a 404 stays a 404, the public site keeps its URLconf)."""

from __future__ import annotations

import io
import sys
from unittest import mock

from django.core.handlers.wsgi import WSGIHandler
from django.urls.resolvers import URLResolver

from config import url_resolution


class Handler(url_resolution.RememberedResolution, WSGIHandler):
    pass


def _get(handler, host: str, path: str) -> int:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host, "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip
    statuses = []
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    body.close()
    return int(statuses[0].split()[0])


def test_a_path_is_resolved_once_and_answered_the_same(school_a, public_host):
    url_resolution.forget()
    handler = Handler()
    with mock.patch.object(
        URLResolver, "resolve", autospec=True, side_effect=URLResolver.resolve
    ) as resolve:
        assert _get(handler, school_a.host, "/accounts/login/") == 200
        resolved = resolve.call_count
        assert resolved > 0
        assert [_get(handler, school_a.host, "/accounts/login/") for _ in range(2)] == [200, 200]
        assert resolve.call_count == resolved  # remembered

        assert [_get(handler, public_host, "/accounts/login/") for _ in range(2)] == [200, 200]
        assert resolve.call_count > resolved  # the public site's URLconf: resolved on its own
        resolved = resolve.call_count
        assert [_get(handler, public_host, "/no-such-page/") for _ in range(2)] == [404, 404]
        assert resolve.call_count > resolved
    assert not any(path == "/no-such-page/" for _, path in url_resolution._matches)
