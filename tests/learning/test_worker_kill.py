"""A worker killed (SIGKILL) in the middle of a transcode: once a worker runs again, the
media file still reaches `ready`, with exactly one set of outputs and no temporary files.

This runs a real Celery worker process against Redis and the test database, so it needs the
machine's PostgreSQL and Redis (`-m services`, run by .ci/run):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/15 pytest -m services tests/learning

Why no `django_db` mark: the worker is another process and sees only committed data, which
would need `django_db(transaction=True)` — and that flushes every table when the test ends,
including the session-wide schools of tests/conftest.py that later tests rely on. Instead
this test commits its own tenant (with `django_db_blocker.unblock()`, outside any test
transaction), and deletes it and drops its schema at the end, leaving the rest untouched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from learning import storage
from learning.media import tasks
from learning.media.pipeline.runner import ffmpeg_exe
from learning.media.pipeline.staging import PART_SUFFIX
from learning.models import MediaFile
from tenants import services as tenant_services
from tenants.models import Membership, Role, User
from tests.conftest import client_for

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIP_SECONDS = 20
# The worker: the project's Celery app, told to use Redis with a short visibility timeout so
# that the killed worker's unacknowledged message is handed out again within seconds (in
# production the default hour exceeds the task's time limit, as it must).
WORKER_SCRIPT = """
import os, sys
sys.path[:0] = ["platform", "."]
import django
django.setup()
from config.celery_app import app
app.conf.broker_url = os.environ["KILLTEST_BROKER_URL"]
app.conf.result_backend = None
app.conf.broker_transport_options = {
    "visibility_timeout": 5, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
}
app.worker_main([
    "worker", "--pool=solo", "--loglevel=INFO", "-Q", os.environ["KILLTEST_QUEUE"],
    "--without-gossip", "--without-mingle", "--without-heartbeat",
])
"""


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    if str(db["HOST"]).startswith("/"):  # the embedded server listens on a unix socket
        return f"postgresql://{user}{password}@/{db['NAME']}?host={quote(db['HOST'])}"
    return f"postgresql://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Database access without a test transaction: what the test writes, the worker sees."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def own_school(committed):
    """A school of this test's own, committed, removed with its schema afterwards."""
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(email=f"owner-{tag}@worker-kill.example.com")
    student = User.objects.create_user(email=f"student-{tag}@worker-kill.example.com")
    tenant = tenant_services.tenant_create(
        name=f"Worker kill {tag}", slug=f"worker-kill-{tag}", kind="school", owner=owner
    )
    Membership.objects.create(user=student, tenant=tenant, role=Role.STUDENT)
    try:
        yield tenant, student
    finally:
        with tenant_context(tenant):
            # Tenant rows first: they PROTECT the users, whose deletion looks into this schema.
            MediaFile.objects.all().delete()
            prefix = storage.tenant_prefix()
            for user in (student, owner):
                user.delete()
        tenant.delete(force_drop=True)
        shutil.rmtree(Path(settings.PRIVATE_MEDIA_ROOT) / prefix, ignore_errors=True)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    assert url, "The worker test needs REDIS_URL (see the module docstring)."
    return url


@pytest.fixture
def queue(redis_url):
    """A queue of this test's own, so that no other worker or test takes its messages."""
    name = f"worker-kill-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(redis_url).delete(name)


def _clip(path: Path) -> Path:
    # 1080p, so it must be re-encoded (a browser-ready 720p clip is copied in a moment).
    subprocess.run(
        [
            ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={CLIP_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-f", "mp4", str(path),
        ],
        check=True, timeout=120,
    )
    return path


class Worker:
    def __init__(self, *, redis_url: str, queue: str, log: Path, scratch: Path):
        scratch.mkdir(parents=True, exist_ok=True)
        env = os.environ | {
            # The worker's scratch folders (tempfile) go here, where the test can watch them.
            "TMPDIR": str(scratch),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "PRACTIKA_PRIVATE_MEDIA_ROOT": settings.PRIVATE_MEDIA_ROOT,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": "",
            "KILLTEST_BROKER_URL": redis_url,
            "KILLTEST_QUEUE": queue,
        }
        env.pop("PRACTIKA_EMBEDDED_PG_DIR", None)
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT],
            cwd=REPO_ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: ffmpeg dies with it
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _wait_for(media_pk: int, tenant, states: set[str], *, timeout: float, worker: Worker) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(tenant):
            state = MediaFile.objects.values_list("state", flat=True).get(pk=media_pk)
        if state in states:
            return state
        assert worker.process.poll() is None, f"worker exited:\n{worker.tail()}"
        time.sleep(0.05)
    raise AssertionError(f"media stayed {state!r}, expected {states}:\n{worker.tail()}")


def _wait_for_transcoding(scratch: Path, *, timeout: float, worker: Worker) -> Path:
    """The first output ffmpeg is writing (a staged `.*.part` file with bytes in it): the
    worker is inside the transcode, whose outputs are not stored until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for part in scratch.glob(f"practika-media-*/out/.*{PART_SUFFIX}"):
            try:
                if part.stat().st_size > 0:
                    return part
            except FileNotFoundError:
                continue  # renamed into place between the listing and the stat
        assert worker.process.poll() is None, f"worker exited:\n{worker.tail()}"
        time.sleep(0.02)
    raise AssertionError(f"no transcode output appeared in {timeout:.0f} s:\n{worker.tail()}")


def test_killed_worker_leaves_a_file_that_is_processed_on_redelivery(
    own_school, redis_url, queue, tmp_path, monkeypatch
):
    tenant, student = own_school
    # Given a 20-second 720p clip uploaded through the API (on its school's host)
    data = _clip(tmp_path / "long.mp4").read_bytes()
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: None)
    client = client_for(student, f"{tenant.slug}.{settings.BASE_DOMAIN}")
    ticket = client.post(
        "/api/v1/uploads/", {"purpose": "reply", "filename": "long.mp4", "size": len(data)},
        content_type="application/json",
    ).json()
    parts = []
    for part in ticket["parts"]:
        start = (part["number"] - 1) * ticket["part_size"]
        response = client.put(
            "/" + part["url"].split("/", 3)[3], data[start : start + ticket["part_size"]],
            content_type="application/octet-stream",
        )
        parts.append({"number": part["number"], "etag": response["ETag"]})
    completed = client.post(
        "/" + ticket["complete_url"].split("/", 3)[3], {"parts": parts},
        content_type="application/json",
    )
    assert completed.json()["state"] == "uploaded", completed.content
    with tenant_context(tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        prefix = storage.media_prefix(media.public_id)
        tenant_folder = storage.tenant_prefix()
        # Queued inside the tenant, as the service does: the message carries the schema.
        with tasks.process_media.app.connection_for_write(redis_url) as broker:
            tasks.process_media.apply_async(args=[media.pk], connection=broker, queue=queue)

    scratch = tmp_path / "worker-scratch"
    first = Worker(redis_url=redis_url, queue=queue, log=tmp_path / "worker.log", scratch=scratch)
    second = None
    try:
        # When the worker is killed while it transcodes
        _wait_for(media.pk, tenant, {"processing"}, timeout=90, worker=first)
        # Into ffmpeg's work, well before its end: kill as soon as its first output has bytes
        # (a 20 s 1080p clip takes seconds to transcode), rather than after a guessed sleep.
        _wait_for_transcoding(scratch, timeout=120, worker=first)
        first.kill()
        with tenant_context(tenant):
            media.refresh_from_db()
            assert media.state == "processing", "the transcode ended before the kill"
            assert [o.key for o in storage.list_objects(prefix=prefix)] == [prefix + "source"]

        # Then a new worker gets the message again and finishes the job
        second = Worker(
            redis_url=redis_url, queue=queue, log=tmp_path / "worker.log", scratch=scratch
        )
        state = _wait_for(media.pk, tenant, {"ready", "failed"}, timeout=180, worker=second)
    finally:
        first.stop()
        if second is not None:
            second.stop()

    assert state == "ready", second.tail()
    with tenant_context(tenant):
        media.refresh_from_db()
        assert media.processing_attempts == 2
        # Exactly one set of outputs, and nothing else in the school's folder: no duplicates,
        # no temporary files from the killed run.
        assert sorted(o.key for o in storage.list_objects(prefix=tenant_folder)) == sorted(
            prefix + name
            for name in ("source", "720p.mp4", "poster.jpg", "waveform.json")
        )
        assert media.renditions == {"720p": f"{prefix}720p.mp4"}
        assert abs(media.duration_s - CLIP_SECONDS) < 0.2
