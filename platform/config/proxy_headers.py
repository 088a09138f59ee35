"""The client's address and scheme behind the load balancer, for the WSGI server.

uvicorn's `--proxy-headers --forwarded-allow-ips` does this for the ASGI process; gunicorn's
`--forwarded-allow-ips` only decides whom it believes about the scheme and leaves REMOTE_ADDR
as the peer. `ProxyHeadersMiddleware` does what uvicorn does, with the same trusted proxies
(PRACTIKA_TRUSTED_PROXIES, settings.TRUSTED_PROXIES):

* when the peer is a trusted proxy, the client is the rightmost X-Forwarded-For entry that is
  not a trusted proxy (the entries to its left are whatever the client wrote), or the leftmost
  when every entry is trusted; it becomes REMOTE_ADDR (REMOTE_PORT 0, as uvicorn's);
* the scheme comes from X-Forwarded-Proto (http or https) of a trusted peer only; from anyone
  else the header is dropped, so Django's SECURE_PROXY_SSL_HEADER cannot be fooled by a client
  that reaches the server directly.

tests/security/test_proxy_headers.py compares it with uvicorn's middleware case by case.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Addresses, CIDR ranges and (for anything that is not an IP) literal names; "*" trusts
    everyone, as uvicorn's `--forwarded-allow-ips "*"` (never what Practika configures)."""

    def __init__(self, entries: Iterable[str] | str):
        if isinstance(entries, str):
            entries = entries.split(",")
        entries = [entry.strip() for entry in entries]
        self.everyone = entries == ["*"]
        self.addresses: set[Address] = set()
        self.networks: set[Network] = set()
        self.literals: set[str] = set()
        for entry in entries:
            try:
                if "/" in entry:
                    self.networks.add(ipaddress.ip_network(entry))
                else:
                    self.addresses.add(ipaddress.ip_address(entry))
            except ValueError:
                self.literals.add(entry)

    def __contains__(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if not host:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return address in self.addresses or any(address in net for net in self.networks)

    def client(self, forwarded_for: str) -> str:
        hosts = [_host(entry.strip()) for entry in forwarded_for.split(",")]
        if self.everyone:
            return hosts[0]
        for host in reversed(hosts):
            if host not in self:
                return host
        return hosts[0]  # every entry is a trusted proxy: the client is one of them


def _host(entry: str) -> str:
    """An X-Forwarded-For entry without its port: `a.b.c.d:p`, `[v6]:p`, or the address."""
    if entry.startswith("["):
        end = entry.find("]")
        if end == -1:
            return entry
        rest = entry[end + 1 :]
        if not rest:
            return entry[1:end]
        return entry[1:end] if rest.startswith(":") else entry
    if entry.count(":") == 1:
        host, port = entry.rsplit(":", 1)
        try:
            int(port)
        except ValueError:
            return entry
        return host
    return entry


class ProxyHeadersMiddleware:
    def __init__(self, app: Callable[..., Any], trusted: Iterable[str] | str):
        self.app = app
        self.trusted = TrustedProxies(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REMOTE_ADDR") in self.trusted:
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").strip()
            if proto in {"http", "https"}:
                environ["wsgi.url_scheme"] = proto
            forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
            if forwarded_for is not None:
                client = self.trusted.client(forwarded_for)
                if client:
                    environ["REMOTE_ADDR"] = client
                    environ["REMOTE_PORT"] = "0"
        else:
            environ.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.app(environ, start_response)
