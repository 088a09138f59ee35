"""Request bodies are bounded before anything reads them.

Django's ASGI handler reads the whole body (spooling it to a temporary file) before any
middleware or view runs, so a limit checked in a view comes after the disk has filled.
`BodyLimitMiddleware` wraps the Django application as the outermost ASGI layer:

* a `Content-Length` above the path's limit is answered 413 at once, before a byte of the body
  is read (a client that sent `Expect: 100-continue` never gets to send it);
* a body without a length (chunked) is counted as it streams in; past the limit the client gets
  413 and Django is told the client went away, so it drops what it spooled and never runs.

Every path gets `PRACTIKA_MAX_REQUEST_BYTES`; the local upload endpoint (learning.uploads.views,
the embedded stand-in for S3's presigned part uploads) gets one part plus some slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# PUT /uploads/<token>/parts/<n> on a tenant's host (learning.urls_storage).
UPLOAD_PART_PATH = re.compile(r"^/uploads/[^/]+/parts/\d+$")
# Headers and framing a client may add around a part; the view checks the part's exact size.
UPLOAD_PART_SLACK_BYTES = 64 * 1024
# After answering 413, what the client is still sending is read and dropped for a moment before
# the connection closes ("lingering close", as nginx does): closing a socket with unread data
# resets it, and the client would lose the 413 and see only "connection reset".
LINGER_BYTES = 4 * 1024**2
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class PathLimit:
    pattern: re.Pattern[str]
    max_bytes: int


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:g} MiB" if size >= 1024**2 else f"{size} bytes"


def settings_limits() -> tuple[int, list[PathLimit]]:
    """The default limit and the per-path ones, from the settings."""
    from django.conf import settings

    from learning import storage

    part_bytes = storage.part_size_for(settings.PRACTIKA_MAX_UPLOAD_BYTES)
    return settings.PRACTIKA_MAX_REQUEST_BYTES, [
        PathLimit(UPLOAD_PART_PATH, part_bytes + UPLOAD_PART_SLACK_BYTES)
    ]


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default_max_bytes: int, path_limits: list[PathLimit]):
        self.app = app
        self.default_max_bytes = default_max_bytes
        self.path_limits = path_limits

    def max_bytes_for(self, path: str) -> int:
        for limit in self.path_limits:
            if limit.pattern.match(path):
                return limit.max_bytes
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await _refuse(send, receive, max_bytes)
            return

        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    refused = True
                    await _refuse(send, receive, max_bytes, more_body=message.get("more_body"))
                    # Django drops the spooled body and stops: as if the client left.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    lengths = [
        value for name, value in scope.get("headers", []) if name.lower() == b"content-length"
    ]
    parsed = [int(value) for value in lengths if value.strip().isdigit()]
    return max(parsed) if parsed else None


async def _refuse(send: Send, receive: Receive, max_bytes: int, *, more_body: bool = True) -> None:
    body = json.dumps({
        "code": "request_too_large",
        "message": f"The request body is larger than the {_megabytes(max_bytes)} this address "
                   "accepts.",
    }).encode()
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The rest of the body is not read: the connection cannot carry another request.
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body, "more_body": True})
    if more_body:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_drain(receive), LINGER_SECONDS)
    await send({"type": "http.response.body", "body": b""})


async def _drain(receive: Receive) -> None:
    dropped = 0
    while dropped < LINGER_BYTES:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return
        dropped += len(message.get("body", b""))


# --- The same limits under WSGI (gunicorn, config.wsgi) ---------------------------------------
#
# Django's WSGI request reads at most CONTENT_LENGTH bytes of `wsgi.input`, and gunicorn's
# reader never more than the declared length, so under WSGI the declared length is the whole
# story: above the path's limit it is answered 413 before a byte is read. A body without a
# length (Transfer-Encoding: chunked) is refused with 411: Django's WSGI request would read it
# as empty (it takes a missing CONTENT_LENGTH for 0), so a view would run on a body it never
# saw. Browsers and the app's clients always send a length.

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Any]
LINGER_CHUNK_BYTES = 64 * 1024


class WSGIBodyLimitMiddleware:
    def __init__(self, app: WSGIApp, *, default_max_bytes: int, path_limits: list[PathLimit]):
        self.app = app
        self.limits = BodyLimitMiddleware(
            app,  # type: ignore[arg-type] - only its max_bytes_for() is used
            default_max_bytes=default_max_bytes,
            path_limits=path_limits,
        )

    def __call__(self, environ: Environ, start_response: StartResponse):
        max_bytes = self.limits.max_bytes_for(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH", "").strip()
        if not length and environ.get("HTTP_TRANSFER_ENCODING"):
            return _wsgi_error(
                start_response, "411 Length Required", "length_required",
                "A request body needs a Content-Length header.", environ,
            )  # fmt: skip
        if length.isdigit() and int(length) > max_bytes:
            return _wsgi_error(
                start_response, "413 Request Entity Too Large", "request_too_large",
                f"The request body is larger than the {_megabytes(max_bytes)} this address "
                "accepts.", environ,
            )  # fmt: skip
        return self.app(environ, start_response)


class _LingeringBody:
    """The error's body, then, once the server has sent it, what the client is still sending
    is read and dropped for a moment (as the ASGI version does), so that closing the
    connection does not reset it before the client has read the answer."""

    def __init__(self, body: bytes, environ: Environ):
        self.body = body
        self.environ = environ

    def __iter__(self):
        yield self.body

    def close(self) -> None:
        stream = self.environ.get("wsgi.input")
        sock = self.environ.get("gunicorn.socket")
        if stream is None:
            return
        deadline = time.monotonic() + LINGER_SECONDS
        previous = sock.gettimeout() if sock is not None else None
        dropped = 0
        try:
            while dropped < LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if sock is not None:  # a client that stops sending does not hold the thread
                    sock.settimeout(remaining)
                chunk = stream.read(LINGER_CHUNK_BYTES)
                if not chunk:
                    return
                dropped += len(chunk)
        except (OSError, ValueError):
            return
        finally:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.settimeout(previous)


def _wsgi_error(
    start_response: StartResponse, status: str, code: str, message: str, environ: Environ
) -> _LingeringBody:  # fmt: skip
    body = json.dumps({"code": code, "message": message}).encode()
    start_response(status, [
        ("Content-Type", "application/json"),
        # No Connection header (hop-by-hop, the server's): gunicorn closes a connection whose
        # body was left unread after draining at most 64 KiB of it.
        ("Content-Length", str(len(body))),
    ])  # fmt: skip
    return _LingeringBody(body, environ)
