"""config.body_limits under WSGI (the pages' server), called as gunicorn calls it: a declared
length over the path's limit is answered 413 before a byte is read, a body without a length
411, and the local upload part path has its own limit. tests/security/test_body_limits.py
runs the same attacks through the real gunicorn and uvicorn.
"""

from __future__ import annotations

import io
import json
import socket

import pytest

from config.body_limits import UPLOAD_PART_PATH, PathLimit, WSGIBodyLimitMiddleware

LIMIT = 1000
PART_LIMIT = 5000


class CountingInput(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


def call(path: str, body: bytes, *, length: str | None, chunked: bool = False, sock=None):
    reached = {}

    def app(environ, start_response):
        reached["body"] = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = WSGIBodyLimitMiddleware(
        app, default_max_bytes=LIMIT, path_limits=[PathLimit(UPLOAD_PART_PATH, PART_LIMIT)]
    )
    stream = CountingInput(body)
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "PUT", "wsgi.input": stream}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    if sock is not None:
        environ["gunicorn.socket"] = sock
    status = {}
    result = middleware(environ, lambda s, headers: status.update(code=s, headers=headers))
    # As a WSGI server does: iterate the body, then close the iterable.
    payload = b"".join(result)
    if hasattr(result, "close"):
        read_before_close = stream.read_bytes
        result.close()
    else:
        read_before_close = stream.read_bytes
    return status, payload, reached, read_before_close, stream


def test_a_declared_length_over_the_limit_is_413_before_reading():
    status, payload, reached, read_before_close, _ = call(
        "/accounts/login/", b"x" * 5000, length="5000"
    )

    assert status["code"].startswith("413")
    assert json.loads(payload)["code"] == "request_too_large"
    assert reached == {}
    assert read_before_close == 0, "nothing is read before the answer is sent"
    assert ("Content-Length", str(len(payload))) in status["headers"]


def test_after_the_413_what_the_client_sends_is_drained_a_little_only():
    from config import body_limits

    big = b"x" * (body_limits.LINGER_BYTES + 10 * body_limits.LINGER_CHUNK_BYTES)
    _, _, _, _, stream = call("/accounts/login/", big, length=str(len(big)))

    # Read and dropped so the 413 is not lost to a reset, but bounded.
    assert 0 < stream.read_bytes <= body_limits.LINGER_BYTES + body_limits.LINGER_CHUNK_BYTES


def test_the_drain_does_not_wait_for_a_client_that_stopped_sending():
    left, right = socket.socketpair()
    try:

        class Stalled:
            def read(self, size=-1):
                return right.recv(size)  # blocks until the socket's timeout

        reached = {}

        def app(environ, start_response):  # pragma: no cover - never reached
            reached["yes"] = True

        middleware = WSGIBodyLimitMiddleware(app, default_max_bytes=LIMIT, path_limits=[])
        environ = {"PATH_INFO": "/", "CONTENT_LENGTH": "99999", "wsgi.input": Stalled(),
                   "gunicorn.socket": right}  # fmt: skip
        result = middleware(environ, lambda *a: None)
        b"".join(result)
        result.close()  # returns within LINGER_SECONDS instead of blocking forever
        assert right.gettimeout() is None, "the socket's own timeout is put back"
        assert reached == {}
    finally:
        left.close()
        right.close()


def test_a_body_within_the_limit_reaches_the_application():
    status, _, reached, _, _ = call("/api/v1/x/", b"y" * LIMIT, length=str(LIMIT))

    assert status["code"] == "200 OK"
    assert reached["body"] == b"y" * LIMIT


def test_a_body_without_a_length_is_411():
    status, payload, reached, read_before_close, _ = call(
        "/api/v1/auth/login/", b"5\r\nhello\r\n0\r\n\r\n", length=None, chunked=True
    )

    assert status["code"].startswith("411")
    assert json.loads(payload)["code"] == "length_required"
    assert reached == {}
    assert read_before_close == 0, "nothing is read before the answer is sent"


def test_no_body_at_all_is_fine():
    status, _, reached, _, _ = call("/", b"", length=None)

    assert status["code"] == "200 OK"
    assert reached["body"] == b""


@pytest.mark.parametrize(("size", "allowed"), [(PART_LIMIT, True), (PART_LIMIT + 1, False)])
def test_upload_parts_get_their_own_limit(size, allowed):
    status, *_ = call("/uploads/some-token/parts/3", b"z" * size, length=str(size))

    assert status["code"].startswith("200" if allowed else "413")


def test_the_default_limit_applies_to_other_upload_paths():
    status, *_ = call("/uploads/some-token/parts/3/extra", b"z" * 2000, length="2000")

    assert status["code"].startswith("413")
