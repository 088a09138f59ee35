"""Every log line is one JSON object carrying the request id, the tenant and the user id."""

import io
import json
import logging
import sys

import pytest

from config.structured_logging import JsonFormatter
from tests.conftest import client_for


@pytest.fixture
def log_lines():
    """Lines written by the root logger's configured console formatter during the test."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console.formatter)
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def _request_line(lines, path):
    matches = [line for line in lines if line["logger"] == "practika.request"]
    matches = [line for line in matches if line.get("path") == path]
    assert len(matches) == 1, lines
    return matches[0]


def test_a_tenant_request_logs_json_with_request_id_tenant_and_user(school_a, log_lines):
    client = client_for(school_a.teacher, school_a.host)

    response = client.get("/", HTTP_X_REQUEST_ID="lb-1234-abcd")

    assert response["X-Request-ID"] == "lb-1234-abcd"
    line = _request_line(log_lines(), "/")
    assert line["request_id"] == "lb-1234-abcd"
    assert line["tenant"] == school_a.tenant.schema_name
    assert line["user_id"] == str(school_a.teacher.public_id)
    assert line["status"] == response.status_code
    assert line["level"] == "INFO"
    assert {"timestamp", "message", "duration_ms", "method"} <= set(line)
    # The user is identified by the opaque public id only.
    assert school_a.teacher.email not in json.dumps(line)


def test_an_anonymous_request_without_an_id_gets_one_generated_and_echoed(
    school_a, log_lines
):
    response = client_for(None, school_a.host).get("/accounts/login/")

    generated = response["X-Request-ID"]
    assert len(generated) == 32
    line = _request_line(log_lines(), "/accounts/login/")
    assert line["request_id"] == generated
    assert line["tenant"] == school_a.tenant.schema_name
    assert line["user_id"] is None


def test_a_request_id_that_is_not_an_id_is_replaced(school_a, log_lines):
    forged = 'x"\n{"level": "CRITICAL"}'
    response = client_for(None, school_a.host).get("/accounts/login/", HTTP_X_REQUEST_ID=forged)

    assert response["X-Request-ID"] != forged
    line = _request_line(log_lines(), "/accounts/login/")
    assert line["request_id"] == response["X-Request-ID"]


def test_context_is_cleared_after_the_request(school_a, log_lines):
    client_for(school_a.teacher, school_a.host).get("/", HTTP_X_REQUEST_ID="req-1")

    logging.getLogger("practika.test").warning("outside any request", extra={"job": "x"})

    line = next(entry for entry in log_lines() if entry["logger"] == "practika.test")
    assert line["request_id"] is None
    assert line["user_id"] is None
    assert line["job"] == "x"
    assert line["message"] == "outside any request"


def test_exceptions_are_kept_inside_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
        )
    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed here"
    assert "ValueError: boom" in entry["exception"]
