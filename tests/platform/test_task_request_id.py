"""The request id reaches the tasks a request queues, and their log lines (issue 15).

A real request through the test client (an upload completed through the API, with an
`X-Request-ID` header) queues `learning.process_media` on commit; a real Celery worker runs
it: Celery's embedded test worker (celery.contrib.testing), in a thread of this process,
consuming the test settings' in-memory broker. So the message goes through the same
publish → broker → worker path and the same signals (before_task_publish, task_prerun) as in
production; only the transport differs (memory instead of Redis). The task's log lines are
formatted by the project's JsonFormatter as they are written, in the worker's thread.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from contextlib import contextmanager

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_tenants.utils import tenant_context

from config import structured_logging, task_context
from config.celery_app import app
from learning.media.pipeline.runner import ffmpeg_exe
from learning.models import MediaFile
from tests.conftest import client_for
from tests.support.committed_school import committed_school


class Lines(logging.Handler):
    """Every record of the loggers it is attached to, as the JSON line production writes."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(structured_logging.JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def captured(*names: str):
    handler = Lines()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture
def worker(monkeypatch):
    """Celery's embedded worker on the app's own (in-memory) broker, every queue."""
    # Leave the root logger's handlers (and so the rest of the session's logging) alone.
    monkeypatch.setitem(app.conf, "worker_hijack_root_logger", False)
    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        queues=["video", "default"],
        shutdown_timeout=30,
    ) as running:
        yield running


@shared_task(name="tests.request_id_parent")
def request_id_parent() -> None:
    logging.getLogger("tests.request_id").info("parent ran")
    request_id_child.delay()


@shared_task(name="tests.request_id_child")
def request_id_child() -> None:
    logging.getLogger("tests.request_id").info("child ran")


def _clip(path) -> bytes:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=15:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mp4",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


def _wait(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_task_queued_by_a_request_logs_that_request_s_id(
    django_db_setup, django_db_blocker, worker, tmp_path
):
    data = _clip(tmp_path / "clip.mp4")
    with django_db_blocker.unblock(), committed_school("request-id") as (tenant, student):
        client = client_for(student, f"{tenant.slug}.{settings.BASE_DOMAIN}")
        ticket = client.post(
            "/api/v1/uploads/",
            {"purpose": "reply", "filename": "clip.mp4", "size": len(data)},
            content_type="application/json",
        ).json()
        [part] = ticket["parts"]
        etag = client.put(
            "/" + part["url"].split("/", 3)[3], data, content_type="application/octet-stream"
        )["ETag"]
        with captured("learning.media.services") as lines:
            # Given the request that completes the upload (and queues its processing)
            response = client.post(
                "/" + ticket["complete_url"].split("/", 3)[3],
                {"parts": [{"number": 1, "etag": etag}]},
                content_type="application/json",
                headers={"X-Request-ID": "req-upload-42"},
            )
            assert response.status_code == 200, response.content
            assert response["X-Request-ID"] == "req-upload-42"
            # When the worker processes it
            with tenant_context(tenant):
                media = MediaFile.objects.get(public_id=ticket["media"]["id"])
                _wait(lambda: MediaFile.objects.get(pk=media.pk).state == "ready")

    # Then the task's own log lines carry the request's id (and the tenant)
    ready = [line for line in lines if line["message"].startswith(f"media {media.pk} ready")]
    assert [(line["request_id"], line["tenant"]) for line in ready] == [
        ("req-upload-42", tenant.schema_name)
    ]
    assert {line["request_id"] for line in lines} == {"req-upload-42"}
    # And the worker's context is clean afterwards: the id does not leak into the next task
    assert structured_logging.request_id_var.get() is None


def test_a_task_queued_by_a_task_keeps_the_request_id(worker):
    with captured("tests.request_id") as lines:
        token = structured_logging.request_id_var.set("req-chain-7")
        try:
            request_id_parent.delay()  # as a view would queue it
        finally:
            structured_logging.request_id_var.reset(token)
        _wait(lambda: len(lines) == 2)

    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("parent ran", "req-chain-7"),
        ("child ran", "req-chain-7"),
    ]


def test_a_header_that_is_not_an_id_is_not_logged(worker):
    with captured("tests.request_id") as lines:
        request_id_child.apply_async(headers={task_context.HEADER: "evil\nline"})
        request_id_child.apply_async()  # and a task queued outside any request has none
        _wait(lambda: len(lines) == 2)

    assert [line["request_id"] for line in lines] == [None, None]
