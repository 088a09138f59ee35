"""config.asgi serves a page with its whole middleware chain and view in one worker thread
(config.asgi_handler), not a thread hand-off per middleware as Django's own ASGI handler does."""

from __future__ import annotations

import asyncio
import threading

import asgiref.sync
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.urls import path

from config.asgi_handler import PageHandler


def _call(app, *, host: str, path: str, cookie: str = "") -> tuple[int, bytes]:
    headers = [(b"host", host.encode())] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": headers,
    }  # fmt: skip
    messages, received = [], []

    async def receive():
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Future()  # no disconnect until the response is sent

    async def send(message):
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], body


@pytest.fixture
def hand_offs(monkeypatch):
    calls = []
    original = asgiref.sync.SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        calls.append(self.func)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counted)
    return calls


def test_a_page_crosses_into_a_thread_once(public_host, hand_offs):
    status, body = _call(PageHandler(), host=public_host, path="/")
    assert status == 200
    assert b"<h1>Teach music with video</h1>" in body
    # request_started, the page (every middleware and the view), the response's close
    assert len(hand_offs) == 3

    # Django's handler, for comparison, hands off around each of its middleware.
    hand_offs.clear()
    assert _call(ASGIHandler(), host=public_host, path="/")[0] == 200
    assert len(hand_offs) > 6


SEEN: list[tuple[str, int]] = []


def _view(request):
    SEEN.append(("view", threading.get_ident()))
    return HttpResponse("ok")


def outer_middleware(get_response):
    def middleware(request):
        SEEN.append(("middleware", threading.get_ident()))
        return get_response(request)

    return middleware


urlpatterns = [path("here/", _view)]


def test_middleware_and_view_share_one_thread(public_host, settings):
    SEEN.clear()
    settings.MIDDLEWARE = [f"{__name__}.outer_middleware", *settings.MIDDLEWARE]
    settings.PUBLIC_SCHEMA_URLCONF = __name__
    assert _call(PageHandler(), host=public_host, path="/here/") == (200, b"ok")
    assert [who for who, _ in SEEN] == ["middleware", "view"]
    assert SEEN[0][1] == SEEN[1][1] != threading.get_ident()
