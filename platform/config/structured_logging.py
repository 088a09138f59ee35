"""Structured logs: one JSON object per line, carrying the request id, tenant and user.

`RequestContextMiddleware` runs after tenant routing and authentication, so it knows the
tenant's schema and the user; it keeps them in context variables for the whole request (they
follow the request through asgiref's thread hops) and echoes the request id back in the
`X-Request-ID` response header. `JsonFormatter` adds them to every record logged meanwhile.
Outside a request (Celery workers, management commands) the tenant comes from the database
connection's schema, which tenant-schemas-celery sets for each task. Every line is passed
through `config.log_redaction.redact`: the tokens some URLs carry never reach the logs.

The module is not called `logging.py` so that it never shadows the standard library's module
(ruff A005 with strict checking).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from config.log_redaction import RECORD_ATTRIBUTES, redact

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# A request id from the load balancer or a client is kept only if it looks like an id: it is
# echoed into logs and headers, so it must not carry newlines, quotes or a novel.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)

request_logger = logging.getLogger("practika.request")

# One encoder for every line (json.dumps with `default` builds a new one each call). Values JSON
# has no type for are logged as their text.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def _connection_schema() -> str | None:
    """The schema of this thread's database connection, if Django is set up (workers)."""
    if "django.db" not in sys.modules:
        return None
    try:
        from django.conf import settings
        from django.db import connection

        # Not before Django is set up: reading the connection would load the settings, and in
        # a forking server's master (gunicorn) its workers would inherit them (the bare site of
        # bench/pages.py then served Practika's).
        if not settings.configured:
            return None

        return getattr(connection, "schema_name", None)
    except Exception:
        return None


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: timestamp, level, logger, message and context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "tenant": tenant_var.get() or _connection_schema(),
            "user_id": user_id_var.get(),
        }
        # Anything but what every record has was passed in `extra=`, and is logged as well.
        for key, value in record.__dict__.items():
            if key not in RECORD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # The whole line: values turned into text here (a request in `extra`) may hold a path.
        return redact(_ENCODER.encode(entry))


def _request_id(request: HttpRequest) -> str:
    # From META: `request.headers` would copy every header of the request first.
    incoming = request.META.get(_REQUEST_ID_META, "")
    # 128 random bits in hex, as uuid4().hex reads, without building a UUID (1.5 % of a kept
    # page's CPU).
    return incoming if REQUEST_ID_PATTERN.match(incoming) else secrets.token_hex(16)


def _user_id(request: HttpRequest) -> str | None:
    # The opaque public id: never the email, never the sequential primary key.
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return None
    public_id = getattr(user, "public_id", None)
    return str(public_id) if public_id is not None else None


class RequestContextMiddleware:
    """Bind request id, tenant and user to every log line of a request; log the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        tenant = getattr(request, "tenant", None)
        tokens = [
            request_id_var.set(request_id),
            tenant_var.set(getattr(tenant, "schema_name", None)),
            user_id_var.set(_user_id(request)),
        ]
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            # API token authentication happens inside the view (DRF sets request.user there).
            user_id_var.set(_user_id(request))
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            for var, token in zip(
                (request_id_var, tenant_var, user_id_var), tokens, strict=True
            ):
                var.reset(token)
