"""A real Celery worker for the services tests: a subprocess on the machine's Redis, reading
the same test database as the test process.

These fixtures never skip: without REDIS_URL, or with a broker or worker that does not
answer, the tests that use them fail. `make test` deselects them (`-m "not services"`);
`.ci/run` runs them with DATABASE_URL and REDIS_URL set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from django.conf import settings
from django.db import connection

from config.celery_app import app

WORKER_START_TIMEOUT = 90


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("REDIS_URL must point at a Redis server for the services tests.")
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=3).ping()  # fails loudly if unreachable
    return url


def _database_url() -> str:
    """The test database (pytest-django's `test_<name>`), as a URL for another process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    if host.startswith("/"):  # a unix-socket directory (the embedded server)
        return f"postgresql://{credentials}@/{quote(db['NAME'])}?host={quote(host)}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{quote(db['NAME'])}"


def _reset_app_connections() -> None:
    # The app caches its producer pool and result backend; drop them so the next use reads
    # the broker and backend URLs afresh.
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log: Path

    def wait(self, result: AsyncResult, timeout: float = WORKER_START_TIMEOUT):
        """The task's return value; fails if the worker died or did not answer in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The Celery worker exited:\n{self.log.read_text()[-4000:]}")
            try:
                return result.get(timeout=1)
            except CeleryTimeout:
                continue
        pytest.fail(f"No answer from the Celery worker:\n{self.log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def celery_worker(redis_url, django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    # A queue of its own: other workers on the same Redis must not take these tasks.
    queue = f"practika-test-{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "PYTHONPATH": os.pathsep.join(
            [str(settings.BASE_DIR / "platform"), str(settings.BASE_DIR)]
        ),
    }
    command = [
        str(Path(sys.executable).with_name("celery")), "-A", "config", "worker",
        "--pool=solo", "-Q", queue, "-n", f"{queue}@%h", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    # This process queues the tasks and reads their results through the same Redis.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELERY_BROKER_URL", redis_url)
        patch.setenv("CELERY_RESULT_BACKEND", redis_url)
        _reset_app_connections()
        try:
            yield Worker(process=process, queue=queue, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
    _reset_app_connections()
