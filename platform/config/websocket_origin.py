"""Websockets only from our own pages: the Origin must be the host the socket is opened on.

Browsers send cookies with a websocket handshake whatever page opened it, and a websocket is
not bound by the same-origin policy: without this check any site a member visits could open
`wss://<their school>/ws/events/` with their session and read the live feed (cross-site
websocket hijacking). channels' `AllowedHostsOriginValidator` admits only our domains (the base
domain and its subdomains); `SameHostOriginValidator` then narrows that to the very host the
socket is for, so one tenant's pages cannot open another tenant's socket either. Our pages
(templates/static/js/live.js) connect to `location.host`. A handshake without an Origin is
refused: every browser sends one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _hostname(host: str) -> str:
    # urlsplit handles "[::1]:8000" and "name:8000" alike.
    return (urlsplit(f"//{host}").hostname or "").lower()


class SameHostOriginValidator:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        host = _header(scope, b"host")
        origin_host = (urlsplit(origin).hostname or "").lower() if origin else ""
        if not origin_host or not host or origin_host != _hostname(host):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
