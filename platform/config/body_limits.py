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
