"""Liveness (`/healthz`) and readiness (`/readyz`) endpoints.

Liveness answers without touching anything outside the process: a container whose database is
down must not be restarted in a loop for it. Readiness checks every dependency a request or a
task needs (database, cache, broker, storage) and answers 503 when one fails, so the load
balancer stops sending traffic until it recovers.

`HealthCheckMiddleware` sits first in MIDDLEWARE and answers both paths before host validation
and tenant routing: load balancer health checks carry the task's IP address as Host, which is
not (and should not be) in ALLOWED_HOSTS. The URL routes stay as the documented entry points.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# A broker or a storage endpoint that does not answer within this time counts as down.
CHECK_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 returned something else")


def check_cache() -> None:
    key, value = "readyz-probe", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return the value just set")


def check_broker() -> None:
    from config.celery_app import app

    with app.broker_connection(connect_timeout=CHECK_TIMEOUT_SECONDS) as broker:
        # max_retries=0: one attempt; a readiness probe must answer, not wait for a broker.
        broker.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)


def check_storage() -> None:
    # A HEAD request on S3 (or a stat on disk): proves credentials, bucket and network path.
    default_storage.exists("readyz-probe")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:
            # The class name is enough for the probe's body; details go to the log only.
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "error": type(error).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before host validation, tenant routing and sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.views = {"/healthz": healthz, "/readyz": readyz}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is not None and request.method in {"GET", "HEAD"}:
            response = view(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)

