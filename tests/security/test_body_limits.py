"""Finding 9: request bodies were unbounded before any view ran (Django spools the whole body
to disk first), so one `curl -T /dev/zero` filled the disk. Through the real uvicorn and
config.asgi, and through the real gunicorn and config.wsgi (the pages' server, the production
command line), an oversized body is refused with 413 before it is read; a streamed one is cut
off past the limit (ASGI) or refused with 411 at once (WSGI, where Django would read a body
without a length as empty).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from tests.support import e2e_server
from tests.support.edge_server import raw_exchange, web_server

# The live server reads the session's schools: the test database must be set up.
pytestmark = pytest.mark.django_db

MiB = 1024**2
CHUNK = b"\0" * (256 * 1024)


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def server(request, schools, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    with web_server(database=database, data=tmp_path_factory.mktemp("body"),
                    trusted_proxies="127.0.0.1", kind=request.param) as live:
        yield live


def zeros(total: int) -> Iterator[bytes]:
    """/dev/zero, `total` bytes of it."""
    for _ in range(total // len(CHUNK)):
        yield CHUNK


def chunked(total: int) -> Iterator[bytes]:
    for chunk in zeros(total):
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)


def status_and_body(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), answer[:500]
    return int(head.split()[1]), body


def test_a_declared_huge_body_is_refused_before_a_byte_is_read(server):
    head = (
        f"PUT /accounts/login/ HTTP/1.1\r\nHost: {server.host()}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {100 * 1024**3}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()

    answer, sent = raw_exchange(server.port, head, zeros(64 * MiB))

    if server.kind == "wsgi":
        # gunicorn sends 100 Continue itself, before the application runs: the client starts
        # sending, and stops as soon as the 413 arrives.
        interim = b"HTTP/1.1 100 Continue\r\n\r\n"
        assert answer.startswith(interim), answer[:500]
        answer = answer[len(interim) :]
    status, body = status_and_body(answer)
    assert status == 413, answer[:500]
    error = json.loads(body)
    assert error["code"] == "request_too_large"
    assert "MiB" in error["message"]
    # Answered at once: under ASGI the 100 Continue never came, so curl would not have sent
    # the body; under WSGI the client stopped after a little of it.
    assert b"100 Continue" not in answer
    assert sent < 16 * MiB


def test_a_streamed_body_without_a_length_is_cut_off_past_the_limit(server):
    head = (
        f"POST /api/v1/auth/login/ HTTP/1.1\r\nHost: {server.host()}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()

    answer, sent = raw_exchange(server.port, head, chunked(256 * MiB), timeout=60)

    status, body = status_and_body(answer)
    if server.kind == "wsgi":
        assert status == 411, answer[:500]
        assert json.loads(body)["code"] == "length_required"
        assert sent < 16 * MiB
        return
    assert status == 413, answer[:500]
    assert json.loads(body)["code"] == "request_too_large"
    # The server stopped reading soon after the limit (socket buffers hold a few MiB more).
    assert sent < settings.PRACTIKA_MAX_REQUEST_BYTES + 64 * MiB


def test_upload_parts_get_their_own_larger_limit_and_no_more(server, school_a):
    part = 8 * MiB  # learning.storage's part size for every upload up to the 2 GiB limit
    path = "/uploads/not-a-real-token/parts/1"
    host = server.host(school_a.tenant.slug)

    def put(length: int) -> int:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
        answer, _ = raw_exchange(server.port, head, zeros(length), timeout=60)
        return status_and_body(answer)[0]

    # A whole part (more than the 5 MiB default limit) reaches the view, which refuses the token.
    assert put(part) not in {413, 500}
    assert put(part + 2 * MiB) == 413
