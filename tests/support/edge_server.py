"""The real web servers for the edge tests, on the test database: uvicorn serving config.asgi
(tests.support.e2e_server's `web` role, without a worker; the websockets' server), or gunicorn
serving config.wsgi with the production command line (config.webserver, kind "pages"; the
pages' server); and a raw HTTP client that can send what an attacker sends: any header, a
lying or missing Content-Length, an endless body.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from tests.support import e2e_server

BASE_DOMAIN = e2e_server.BASE_DOMAIN


@dataclass
class WebServer:
    port: int
    data: Path
    kind: str = "asgi"

    @property
    def log(self) -> Path:
        return self.data / "web.log"

    def host(self, slug: str = "") -> str:
        return f"{slug + '.' if slug else ''}{BASE_DOMAIN}:{self.port}"

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextmanager
def web_server(
    *, database: str, data: Path, trusted_proxies: str, kind: str = "asgi"
) -> Iterator[WebServer]:
    """uvicorn (`kind` "asgi") or gunicorn ("wsgi") on a free port; PRACTIKA_TRUSTED_PROXIES
    is `trusted_proxies`."""
    port = e2e_server.free_port()
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database,
        "PRACTIKA_TRUSTED_PROXIES": trusted_proxies,
        "PYTHONPATH": os.pathsep.join([str(e2e_server.ROOT / "platform"), str(e2e_server.ROOT)]),
        "PYTHONUNBUFFERED": "1",
        "PRACTIKA_E2E_DATA": str(data),
        "PRACTIKA_E2E_PORT": str(port),
    })
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if kind == "wsgi":
        from config import webserver

        env["PRACTIKA_TRUSTED_PROXIES"] = trusted_proxies
        argv = webserver.command(
            kind="pages", app="tests.support.e2e_wsgi:application", host="127.0.0.1",
            port=port, workers=1, threads=4,
        )  # fmt: skip
    else:
        argv = [sys.executable, "-m", "tests.support.e2e_server", "web", "--port", str(port),
                "--data", str(data)]  # fmt: skip
    log = data / "web.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, cwd=e2e_server.ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = WebServer(port=port, data=data, kind=kind)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} server did not start.\n{server.logs()}") from error
                time.sleep(0.3)
        yield server
    finally:
        e2e_server._stop(process)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Browser:
    """Cookies and CSRF for one host of the live server, over http.client."""

    def __init__(self, server: WebServer, host: str):
        self.server = server
        self.host = host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        sent = {"Host": self.host, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        raw = connection.getresponse()
        response = Response(raw.status, raw.headers, raw.read())
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def csrf_token(self, path: str) -> str:
        page = self.request("GET", path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, page.text[:2000]
        return match.group(1)

    def post_form(self, path: str, fields: dict[str, str], *,
                  headers: dict[str, str] | None = None) -> Response:
        fields = {"csrfmiddlewaretoken": self.csrf_token(path), **fields}
        return self.request(
            "POST", path, body=urllib.parse.urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Origin": f"http://{self.host}", "Referer": f"http://{self.host}{path}",
                     **(headers or {})},
        )


def raw_exchange(port: int, head: bytes, chunks: Iterator[bytes], *,
                 timeout: float = 20) -> tuple[bytes, int]:
    """Send `head`, then `chunks` until the server answers or stops reading; returns the
    answer and how many body bytes went out."""
    sent = 0
    answer = b""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            try:
                for chunk in chunks:
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable or time.monotonic() > deadline:
                        break
                    sock.sendall(chunk)
                    sent += len(chunk)
            except BrokenPipeError as error:
                # The server answered and closed without reading the rest (gunicorn, when the
                # application did not read the body): its answer may be waiting.
                print("raw_exchange: sending stopped:", repr(error), sent)
            while time.monotonic() < deadline:
                wait = max(0.0, deadline - time.monotonic())
                readable, _, _ = select.select([sock], [], [], wait)
                if not readable:
                    break
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
                if _complete(answer):
                    break
        except (ConnectionResetError, BrokenPipeError, TimeoutError) as error:
            print("raw_exchange:", repr(error), sent, answer[:200])
    return answer, sent


def _complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return match is not None and len(body) >= int(match.group(1))
