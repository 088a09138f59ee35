"""The client's address under WSGI (config.proxy_headers, in front of Django in config.wsgi)
is the one uvicorn's --proxy-headers finds for the websockets: the rightmost X-Forwarded-For
entry that is no trusted proxy, believed from a trusted peer only. Each case runs through both
middlewares and must agree; then the scheme, and the real gunicorn (tests/security/
test_client_ip.py runs its rate-limit cases through both servers).
"""

from __future__ import annotations

import asyncio

import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware as UvicornProxyHeaders

from config.proxy_headers import ProxyHeadersMiddleware

TRUSTED = "127.0.0.1,::1,10.40.0.0/16,fd00::/8"

CASES = [
    # (peer, X-Forwarded-For or None)
    ("10.40.1.2", "198.51.100.7"),
    ("10.40.1.2", "203.0.113.9, 198.51.100.7"),  # the client wrote the first entry
    ("10.40.1.2", "203.0.113.9, 198.51.100.7, 10.40.3.4"),  # two proxies of ours
    ("10.40.1.2", "10.40.9.9, 10.40.3.4"),  # every entry trusted: the leftmost
    ("10.40.1.2", "198.51.100.7:4711"),  # a port on the entry
    ("10.40.1.2", "[2001:db8::5]:443, 10.40.3.4"),
    ("10.40.1.2", "2001:db8::5"),
    ("10.40.1.2", "198.51.100.7,   192.0.2.1"),
    ("10.40.1.2", "not-an-address"),
    ("10.40.1.2", ""),  # an empty header: the peer stays
    ("10.40.1.2", None),
    ("fd00::1", "198.51.100.7"),
    ("::1", "198.51.100.7, 192.0.2.44"),
    ("192.0.2.200", "198.51.100.7"),  # not a trusted peer: nothing is believed
    ("192.0.2.200", None),
    ("10.41.0.1", "198.51.100.7"),  # just outside the range
]


def uvicorn_client(peer: str, forwarded_for: str | None) -> str:
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    headers = [] if forwarded_for is None else [(b"x-forwarded-for", forwarded_for.encode())]
    scope = {"type": "http", "client": (peer, 5000), "headers": headers, "scheme": "http"}
    asyncio.run(UvicornProxyHeaders(app, trusted_hosts=TRUSTED)(scope, None, None))
    return seen["client"]


def wsgi_environ(peer: str, forwarded_for: str | None = None, proto: str | None = None):
    environ = {"REMOTE_ADDR": peer, "REMOTE_PORT": "5000", "wsgi.url_scheme": "http"}
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto is not None:
        environ["HTTP_X_FORWARDED_PROTO"] = proto
    return environ


def through_wsgi(environ: dict) -> dict:
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    ProxyHeadersMiddleware(app, TRUSTED.split(","))(environ, lambda *args: None)
    return seen


@pytest.mark.parametrize(("peer", "forwarded_for"), CASES)
def test_the_client_is_the_one_uvicorn_finds(peer, forwarded_for):
    environ = through_wsgi(wsgi_environ(peer, forwarded_for))

    assert environ["REMOTE_ADDR"] == uvicorn_client(peer, forwarded_for)


def test_the_expected_addresses():
    # Not only agreement: the answers themselves, should uvicorn ever change.
    def client(peer, forwarded_for):
        return through_wsgi(wsgi_environ(peer, forwarded_for))["REMOTE_ADDR"]

    assert client("10.40.1.2", "203.0.113.9, 198.51.100.7, 10.40.3.4") == "198.51.100.7"
    assert client("10.40.1.2", "10.40.9.9, 10.40.3.4") == "10.40.9.9"
    assert client("10.40.1.2", "[2001:db8::5]:443") == "2001:db8::5"
    assert client("192.0.2.200", "198.51.100.7") == "192.0.2.200"
    assert through_wsgi(wsgi_environ("10.40.1.2", "198.51.100.7"))["REMOTE_PORT"] == "0"


def test_the_scheme_comes_from_a_trusted_proxy_only():
    behind = through_wsgi(wsgi_environ("10.40.1.2", "198.51.100.7", proto="https"))
    direct = through_wsgi(wsgi_environ("192.0.2.200", "198.51.100.7", proto="https"))
    odd = through_wsgi(wsgi_environ("10.40.1.2", None, proto="gopher"))

    assert behind["wsgi.url_scheme"] == "https"
    assert behind["HTTP_X_FORWARDED_PROTO"] == "https"  # Django's SECURE_PROXY_SSL_HEADER
    # A direct client's header is dropped: Django would otherwise take the request for https.
    assert direct["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_PROTO" not in direct
    assert odd["wsgi.url_scheme"] == "http"


def test_star_trusts_everyone_as_uvicorn_does():
    def app(environ, start_response):
        return [environ["REMOTE_ADDR"].encode()]

    middleware = ProxyHeadersMiddleware(app, "*")
    environ = wsgi_environ("192.0.2.200", "203.0.113.9, 198.51.100.7")

    assert middleware(environ, lambda *a: None) == [b"203.0.113.9"]
