"""Work that outlives its worker (issue 15), with the broker as production has it: Redis and
its visibility timeout of an hour (settings.REDIS_BROKER_TRANSPORT_OPTIONS, not shortened).

Ten uploads go through the real API; a real worker (prefork, concurrency 2, the production
command's shape) is SIGKILLed while it transcodes and started again; a real beat process runs
the lease watchdog. Every upload must be ready within 2 minutes of the restart, processed
once, with one set of outputs, while the API the student's page polls says `processing`
meanwhile. Then the killed runs' own messages, still unacknowledged in Redis, are handed out
again (as Redis would after the hour): they must change nothing.

It needs the machine's PostgreSQL and Redis (`-m services`, run by .ci/run):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/15 pytest -m services tests/learning/test_worker_kill.py

The broker's keys carry a prefix of this test's own (kombu's `global_keyprefix`), so that no
other worker on the same Redis takes these messages; the queues keep their production names.

Why no `django_db` mark: the worker is another process and sees only committed data, which
would need `django_db(transaction=True)` — and that flushes every table when the test ends,
including the session-wide schools of tests/conftest.py that later tests rely on. Instead
this test commits its own tenant (with `django_db_blocker.unblock()`, outside any test
transaction), and deletes it and drops its schema at the end, leaving the rest untouched.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from config.celery_app import app
from learning import storage
from learning.jobs import leases, watchdog
from learning.media.pipeline.runner import ffmpeg_exe
from learning.media.pipeline.staging import PART_SUFFIX
from learning.media.tasks import process_media
from learning.models import MediaFile
from tenants.models import JobLease
from tests.conftest import client_for
from tests.support.committed_school import committed_school

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
UPLOADS = 10
CLIP_SECONDS = 5
READY_WITHIN_S = 120
# The worker and beat: the project's Celery app with the production broker options, plus this
# test's key prefix. The worker takes the video and default queues (the watchdog's messages
# go to default), prefork with two processes like the production command.
SCRIPT = """
import os, sys
sys.path[:0] = ["platform", "."]
import django
django.setup()
from django.conf import settings
from config.celery_app import app
app.conf.broker_url = os.environ["KILLTEST_BROKER_URL"]
app.conf.result_backend = None
app.conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS | {
    "global_keyprefix": os.environ["KILLTEST_PREFIX"],
}
if os.environ.get("KILLTEST_LEASE"):  # "lease,heartbeat" seconds, for one test only
    from learning.jobs import leases
    leases.LEASE_S, leases.HEARTBEAT_S = map(float, os.environ["KILLTEST_LEASE"].split(","))
if sys.argv[1] == "worker":
    app.worker_main([
        "worker", "--pool=prefork", "--concurrency=2", "--loglevel=INFO",
        "--queues=video,default", "--without-gossip", "--without-mingle",
    ])
else:
    name = "learning-lapsed-jobs-requeue"
    app.conf.beat_schedule = {name: settings.CELERY_BEAT_SCHEDULE[name]}
    app.start(["beat", "--loglevel=INFO", "--schedule", os.environ["KILLTEST_SCHEDULE"]])
"""


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    if str(db["HOST"]).startswith("/"):  # the embedded server listens on a unix socket
        return f"postgresql://{user}{password}@/{db['NAME']}?host={quote(db['HOST'])}"
    return f"postgresql://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_app_connections() -> None:
    # The app caches its producer pool; drop it so the next use reads the broker afresh.
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._local = threading.local()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Database access without a test transaction: what the test writes, the worker sees."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def own_school(committed):
    """A school of this test's own, committed, removed with its schema afterwards."""
    with committed_school("worker-kill") as school:
        yield school


@pytest.fixture
def broker(monkeypatch):
    """This process publishes to Redis with the production options and this test's prefix."""
    url = os.environ.get("REDIS_URL", "")
    assert url, "The worker test needs REDIS_URL (see the module docstring)."
    prefix = f"worker-kill-{uuid.uuid4().hex[:8]}:"
    monkeypatch.setitem(app.conf, "broker_url", url)
    monkeypatch.setitem(
        app.conf,
        "broker_transport_options",
        settings.REDIS_BROKER_TRANSPORT_OPTIONS | {"global_keyprefix": prefix},
    )
    _reset_app_connections()
    yield url, prefix
    monkeypatch.undo()
    _reset_app_connections()
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def _clip(path: Path, seconds: int = CLIP_SECONDS) -> Path:
    # 1080p, so it must be re-encoded (a browser-ready 720p clip is copied in a moment).
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
            f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-f",
            "mp4",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path


class Process:
    """The worker or beat, in its own process group (ffmpeg and pool children die with it)."""

    def __init__(
        self, role: str, *, broker: tuple[str, str], log: Path, scratch: Path, lease: str = ""
    ):
        scratch.mkdir(parents=True, exist_ok=True)
        url, prefix = broker
        env = os.environ | {
            # The worker's scratch folders (tempfile) go here, where the test can watch them.
            "TMPDIR": str(scratch),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "PRACTIKA_PRIVATE_MEDIA_ROOT": settings.PRIVATE_MEDIA_ROOT,
            "KILLTEST_BROKER_URL": url,
            "KILLTEST_PREFIX": prefix,
            "KILLTEST_SCHEDULE": str(scratch / "celerybeat-schedule"),
            "KILLTEST_LEASE": lease,
        }
        env.pop("PRACTIKA_EMBEDDED_PG_DIR", None)
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, role],
            cwd=REPO_ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
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

    def alive(self) -> None:
        assert self.process.poll() is None, f"{self.log.name} exited:\n{self.tail()}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _upload(client, data: bytes, name: str) -> str:
    ticket = client.post(
        "/api/v1/uploads/",
        {"purpose": "reply", "filename": name, "size": len(data)},
        content_type="application/json",
    ).json()
    parts = []
    for part in ticket["parts"]:
        start = (part["number"] - 1) * ticket["part_size"]
        response = client.put(
            "/" + part["url"].split("/", 3)[3],
            data[start : start + ticket["part_size"]],
            content_type="application/octet-stream",
        )
        parts.append({"number": part["number"], "etag": response["ETag"]})
    completed = client.post(
        "/" + ticket["complete_url"].split("/", 3)[3],
        {"parts": parts},
        content_type="application/json",
    )
    assert completed.json()["state"] == "uploaded", completed.content
    return ticket["media"]["id"]


def _states(client, media_ids: list[str]) -> dict[str, str]:
    """What the student's page reads: each media file's state from the API it polls."""
    states = {}
    for media_id in media_ids:
        response = client.get(f"/api/v1/media/{media_id}/")
        assert response.status_code == 200, response.content
        states[media_id] = response.json()["state"]
    return states


def _wait_for_transcoding(scratch: Path, *, timeout: float, worker: Process) -> None:
    """Until ffmpeg writes its first output (a staged `.*.part` file with bytes in it): the
    worker is inside a transcode, whose outputs are not stored until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for part in scratch.glob(f"practika-media-*/out/.*{PART_SUFFIX}"):
            try:
                if part.stat().st_size > 0:
                    return
            except FileNotFoundError:
                continue  # renamed into place between the listing and the stat
        worker.alive()
        time.sleep(0.02)
    raise AssertionError(f"no transcode output appeared in {timeout:.0f} s:\n{worker.tail()}")


def _ready_lines(logs: list[Path]) -> list[int]:
    """The media ids of every completed processing run the workers logged."""
    text = "".join(log.read_text(errors="replace") for log in logs if log.exists())
    return [int(pk) for pk in re.findall(r"media (\d+) ready \(attempt", text)]


def test_a_killed_worker_strands_no_upload_with_the_production_broker(own_school, broker, tmp_path):
    tenant, student = own_school
    # Given ten uploads through the API (on the school's host), queued by it on commit
    data = _clip(tmp_path / "clip.mp4").read_bytes()
    client = client_for(student, f"{tenant.slug}.{settings.BASE_DOMAIN}")
    media_ids = [_upload(client, data, f"take-{number}.mp4") for number in range(UPLOADS)]

    scratch = tmp_path / "scratch"
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log", tmp_path / "beat.log"]
    beat = Process("beat", broker=broker, log=logs[2], scratch=scratch / "beat")
    first = Process("worker", broker=broker, log=logs[0], scratch=scratch)
    second = None
    try:
        # When the worker is SIGKILLed in the middle of a transcode
        _wait_for_transcoding(scratch, timeout=120, worker=first)
        first.kill()
        killed_at = timezone.now()
        with tenant_context(tenant):
            stranded = set(
                MediaFile.objects.filter(state="processing").values_list("public_id", flat=True)
            )
        assert stranded, "no upload was being processed at the kill"
        # and started again
        second = Process("worker", broker=broker, log=logs[1], scratch=scratch)
        restarted = time.monotonic()

        # Then the page shows the truth meanwhile and every upload is ready within 2 minutes
        seen: dict[str, set[str]] = {media_id: set() for media_id in media_ids}
        while time.monotonic() - restarted < READY_WITHIN_S:
            for media_id, state in _states(client, media_ids).items():
                seen[media_id].add(state)
            if all("ready" in states for states in seen.values()):
                break
            second.alive()
            beat.alive()
            time.sleep(0.5)
        took = time.monotonic() - restarted
        final = _states(client, media_ids)
        assert set(final.values()) == {"ready"}, (
            f"not ready {took:.0f} s after the restart: {final}\n{second.tail()}\n{beat.tail()}"
        )
        for media_id in stranded:
            assert seen[str(media_id)] <= {"processing", "ready"}, seen[str(media_id)]
        print(f"all {UPLOADS} uploads ready {took:.1f} s after the restart")

        # And the killed runs' own messages, handed out again as Redis would after its hour,
        # change nothing: their jobs belong to the watchdog's runs, which finished them.
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            # (ZRANGE, unlike HKEYS, takes kombu's key prefix.)
            index = channel.client.zrange(channel.unacked_index_key, 0, -1)
            tags = [tag.decode() for tag in index]
            assert tags, "the killed worker's messages should still be unacknowledged"
            for tag in tags:
                channel.qos.restore_by_tag(tag, leftmost=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if logs[1].read_text(errors="replace").count("nothing to process") >= len(tags):
                break
            second.alive()
            time.sleep(0.5)
        else:
            raise AssertionError(f"the redelivered messages were not taken:\n{second.tail()}")
    finally:
        for process in (first, second, beat):
            if process is not None:
                process.stop()

    with tenant_context(tenant):
        media = {m.public_id: m for m in MediaFile.objects.all()}
        assert {str(pk) for pk in media} == set(media_ids)
        # Each upload processed once: one completed run each, one more start for the
        # stranded ones (the killed run), and one set of outputs with no temporary files.
        assert sorted(_ready_lines(logs[:2])) == sorted(m.pk for m in media.values())
        # Every heartbeat of the runs (a transcode here outlasts one) renewed its lease.
        worker_logs = "".join(log.read_text(errors="replace") for log in logs[:2])
        assert "lease not renewed" not in worker_logs
        assert "heartbeat failed" not in worker_logs
        for public_id, item in media.items():
            assert item.state == "ready"
            assert item.processing_attempts == (2 if public_id in stranded else 1)
            if public_id in stranded:
                assert item.processed_at >= killed_at
            prefix = storage.media_prefix(item.public_id)
            assert sorted(o.key for o in storage.list_objects(prefix=prefix)) == sorted(
                prefix + name for name in ("source", "720p.mp4", "poster.jpg", "waveform.json")
            )
            assert abs(item.duration_s - CLIP_SECONDS) < 0.2
    # Only the killed runs' scratch folders remain (SIGKILL leaves no time to remove them; on
    # ECS they go with the stopped task's disk); every finished run removed its own.
    assert len(list(scratch.glob("practika-media-*"))) <= len(stranded)
    # Every lease was released: nothing is left for the watchdog.
    assert not JobLease.objects.filter(tenant=tenant).exists()


def test_a_transcode_longer_than_its_lease_is_never_taken_over(own_school, broker, tmp_path):
    # A real worker and beat, with leases of 2 s renewed every half second (in those
    # processes only): a transcode that outlasts many leases must keep its job, processed
    # once. 40 s of 1080p take 12 s or more to re-encode on 2 idle cores (a 20 s clip once
    # took 6 s, too short to prove anything); on a loaded machine the run only gets longer.
    tenant, student = own_school
    data = _clip(tmp_path / "long.mp4", seconds=40).read_bytes()
    client = client_for(student, f"{tenant.slug}.{settings.BASE_DOMAIN}")
    scratch = tmp_path / "scratch"
    logs = [tmp_path / "worker.log", tmp_path / "beat.log"]
    beat = Process("beat", broker=broker, log=logs[1], scratch=scratch / "beat", lease="2,0.5")
    worker = Process("worker", broker=broker, log=logs[0], scratch=scratch, lease="2,0.5")
    try:
        [media_id] = [_upload(client, data, "long.mp4")]
        started = time.monotonic()
        while _states(client, [media_id])[media_id] != "ready":
            assert time.monotonic() - started < 240, worker.tail()
            worker.alive()
            beat.alive()
            time.sleep(0.5)
        took = time.monotonic() - started
    finally:
        worker.stop()
        beat.stop()

    worker_log = logs[0].read_text(errors="replace")
    assert took > 3 * 2, f"the run ({took:.0f} s) did not outlast several leases"
    assert "queued again" not in worker_log, worker_log[-4000:]
    assert "lease not renewed" not in worker_log
    with tenant_context(tenant):
        media = MediaFile.objects.get(public_id=media_id)
        assert (media.state, media.processing_attempts) == ("ready", 1)
    assert _ready_lines([logs[0]]) == [media.pk]


def test_a_long_run_keeps_its_lease_while_it_works(own_school, monkeypatch):
    # The heartbeat (its own thread and connection), sped up in this process only: a run
    # that outlasts several leases keeps its job and the watchdog leaves it alone; once the
    # run stops renewing, the lease lapses and the watchdog takes the job.
    tenant, student = own_school
    monkeypatch.setattr(leases, "LEASE_S", 1.0)
    monkeypatch.setattr(leases, "HEARTBEAT_S", 0.2)
    queued = []
    monkeypatch.setattr(
        process_media, "apply_async", lambda args, task_id: queued.append((args, task_id))
    )
    with tenant_context(tenant):
        media = MediaFile.objects.create(
            owner=student, purpose="reply", state="processing", source_key="x/source"
        )
        with transaction.atomic():
            assert leases.lease_claim(leases.MEDIA, media.pk, "long-run")
        with leases.lease_kept(leases.MEDIA, media.pk, "long-run"):
            for _ in range(6):
                time.sleep(0.5)
                assert watchdog.lapsed_jobs_requeue().media == 0
        time.sleep(1.2)
    assert watchdog.lapsed_jobs_requeue().media == 1
    [(args, token)] = queued
    assert args == [media.pk] and token != "long-run"
