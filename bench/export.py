"""How much memory and time a tenant export takes: `learning.exports.services.export_build`
(the work of the task `learning.build_export`) for a school with 200 students, 2,000 replies
and 1 GB of stored recordings, written as one ZIP into local private storage.

    make bench                                  (or: python bench/export.py)
    BENCH export_peak_mb <value> MB             peak RSS of the process that wrote the export
    BENCH export_seconds <value> s              wall time of export_build
    BENCH export_zip_mb <value> MB              the archive's size (for reading the two above)
    BENCH export_s3_peak_mb <value> MB          the same, written to S3 (moto's server) as a
    BENCH export_s3_seconds <value> s           multipart upload, read from there too (the
                                                time is mostly moto's: a Python server that
                                                also joins the parts; BENCH_EXPORT_S3=0 skips)

Runs against the embedded PostgreSQL in its own data folder (.data/postgres-bench). Rows are
made fast with bulk_create: 200 students, 20 exercises, 2,000 replies (one recording each),
a comment per reply, an alignment per reply (its time map, and each recording's waveform,
sized like a two-minute reply's: the rows an export reads are as heavy as real ones). The
recordings are real MP4s, made once with the bundled ffmpeg: 4 distinct 4-second clips whose
bitrate is chosen so that the whole school holds just over 1 GB. Each media file's folder
holds hard links to one of them (its original upload and its 720p rendition) and a poster,
so the archive reads over 1 GB of real bytes through learning.storage while the disk holds
only the 4 clips. Hard links make the reads cache-warm: the figure is the export's own cost,
not a cold disk's.

The export runs in a child process started for it (`--export`), so that its peak RSS is the
export's, with Django and the app loaded, not the seeding's. Everything is dropped afterwards.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = int(os.environ.get("BENCH_EXPORT_STUDENTS", "200"))
REPLIES = int(os.environ.get("BENCH_EXPORT_REPLIES", "2000"))
EXERCISES = 20
MEDIA_BYTES = int(os.environ.get("BENCH_EXPORT_MEDIA_BYTES", str(1024**3)))
CLIPS = 4
# The same export once more with S3 (moto's server) as the storage: the multipart writer.
S3 = os.environ.get("BENCH_EXPORT_S3", "1") == "1"


def _setup_django(media_root: str) -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("PRACTIKA_EMBEDDED_PG_DIR", str(ROOT / ".data" / "postgres-bench"))
    os.environ.pop("DATABASE_URL", None)  # always the embedded server: comparable numbers
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["PRACTIKA_PRIVATE_MEDIA_ROOT"] = media_root
    import django

    django.setup()


def _clips(folder: Path, target_bytes: int) -> list[Path]:
    """CLIPS distinct MP4s (H.264 + AAC), each about `target_bytes` long."""
    from learning.media.pipeline.runner import ffmpeg_exe

    seconds = 4
    # x264 overshoots a target this small by about a quarter.
    bitrate = max(64_000, target_bytes * 8 * 4 // (5 * seconds))
    clips = []
    for n in range(CLIPS):
        out = folder / f"clip{n}.mp4"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size=640x360:rate=30:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency={220 * (n + 1)}:duration={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-b:v",
                str(bitrate),
                "-maxrate",
                str(bitrate),
                "-bufsize",
                str(bitrate),
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-movflags",
                "+faststart",
                str(out),
            ],
            check=True,
        )
        clips.append(out)
    return clips


def _seed(tenant, owner, students: list, media_root: Path, clips_dir: Path) -> None:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from learning import storage
    from learning.models import Alignment, Comment, Exercise, MediaFile, Reply
    from tenants.models import Membership, Role, User

    run = tenant.slug.rsplit("-", 1)[-1]
    students += User.objects.bulk_create(
        [User(email=f"s{i}-{run}@example.com") for i in range(STUDENTS)]
    )
    Membership.objects.bulk_create(
        [Membership(user=s, tenant=tenant, role=Role.STUDENT) for s in students]
    )
    media_count = REPLIES + EXERCISES
    # Each media file holds two copies of its clip (the original and the 720p rendition).
    clips = _clips(clips_dir, MEDIA_BYTES // (media_count * 2))
    now = timezone.now()
    with tenant_context(tenant):
        prefix = storage.tenant_prefix()
        waveform = [round((n % 50) / 50, 3) for n in range(1200)]  # two minutes' peaks
        media = []
        for i in range(media_count):
            public_id = uuid.uuid4()
            folder = f"{prefix}media/{public_id}/"
            media.append(
                MediaFile(
                    public_id=public_id,
                    owner=owner if i < EXERCISES else students[i % STUDENTS],
                    purpose="demonstration" if i < EXERCISES else "reply",
                    state="ready",
                    original_name="take.mp4",
                    source_key=f"{folder}source",
                    has_video=True,
                    has_audio=True,
                    duration_s=4.0,
                    width=640,
                    height=360,
                    renditions={"720p": f"{folder}720p.mp4"},
                    poster_key=f"{folder}poster.jpg",
                    size_bytes=clips[i % CLIPS].stat().st_size,
                    waveform=waveform,
                )
            )
            path = media_root / folder
            path.mkdir(parents=True)
            os.link(clips[i % CLIPS], path / "source")
            os.link(clips[i % CLIPS], path / "720p.mp4")
            (path / "poster.jpg").write_bytes(b"\xff\xd8poster\xff\xd9")
        MediaFile.objects.bulk_create(media, batch_size=1000)
        exercises = Exercise.objects.bulk_create(
            [
                Exercise(
                    title=f"Exercise {i}",
                    instructions="Play it slowly." * 5,
                    demo=media[i],
                    status="published",
                    published_at=now,
                    created_by=owner,
                )
                for i in range(EXERCISES)
            ]
        )
        replies = Reply.objects.bulk_create(
            [
                Reply(
                    exercise=exercises[i % EXERCISES],
                    student=students[i % STUDENTS],
                    attempt=i // STUDENTS + 1,
                    media=media[EXERCISES + i],
                    note=f"Attempt number {i}",
                )
                for i in range(REPLIES)
            ],
            batch_size=1000,
        )
        Comment.objects.bulk_create(
            [
                Comment(reply=r, author=owner, at_ms=1000 + n, body=f"Watch bar {n % 32}.")
                for n, r in enumerate(replies)
            ],
            batch_size=1000,
        )
        # Stored analysis sized like a two-minute reply's (10 points a second), not a clip's.
        time_map = {
            "demo_ms": list(range(0, 120_000, 100)),
            "reply_ms": list(range(0, 120_000, 100)),
        }
        Alignment.objects.bulk_create(
            [
                Alignment(
                    reply=r,
                    status="ready",
                    time_map=time_map,
                    bands=[],
                    confidence=0.9,
                )
                for r in replies
            ],
            batch_size=1000,
        )
        connection.set_schema_to_public()


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux keeps that
    across exec, so a child would report the seeding parent's size from before it forked."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _export(schema: str, export_id: int) -> None:
    """The child process: write one export and report its time."""
    from django_tenants.utils import tenant_context

    from learning.exports import services
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(schema_name=schema)):
        from django.db import connection

        loaded_kb = _peak_rss_kb()
        started = time.perf_counter()
        export = services.export_build(export_id=export_id)
        elapsed = time.perf_counter() - started
        assert export.state == "ready", export.state
        print(
            f"{loaded_kb} {_peak_rss_kb()} {elapsed:.2f} {export.size_bytes} {export.files} "
            f"{export.records}",
            flush=True,
        )
        connection.close()


def _cleanup(tenant, owner, students) -> None:
    from django.db import connection

    from billing.models import Subscription
    from tenants.models import AuditEvent, Domain, Membership, Tenant, User

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
        # Raw deletes: Django's cascade would also visit tenant-schema tables public lacks.
        for model in (AuditEvent, Membership, Domain, Subscription):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE tenant_id = %s",  # noqa: S608
                [tenant.pk],
            )
        cursor.execute(f"DELETE FROM {Tenant._meta.db_table} WHERE id = %s", [tenant.pk])  # noqa: S608
        ids = [owner.pk, *[s.pk for s in students]]
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE actor_id = ANY(%s)",  # noqa: S608
            [ids],
        )
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = ANY(%s)", [ids])  # noqa: S608


def _run_export(tenant, export, media_root: Path, env: dict[str, str]) -> list[str]:
    """Run the export in a child process; its figures: RSS before and at the peak (KiB),
    seconds, ZIP bytes, files, records."""
    result = subprocess.run(
        [sys.executable, __file__, "--export", tenant.schema_name, str(export.pk), str(media_root)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
        raise SystemExit("the export failed")
    return result.stdout.split()[-6:]


@contextmanager
def _moto_bucket(media_root: Path):
    """moto's S3 server (in this process, on a free port) holding the same objects as the
    local folder; yields the environment that points a child's settings at it."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_STORAGE_BUCKET_NAME": "practika-bench-export",
        "AWS_S3_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        client = boto3.client(
            "s3", endpoint_url=env["AWS_S3_ENDPOINT_URL"], region_name="us-east-1"
        )
        client.create_bucket(Bucket=env["AWS_STORAGE_BUCKET_NAME"])
        for path in sorted((media_root / "tenants").rglob("*")):
            key = str(path.relative_to(media_root))
            if path.is_file() and "/exports/" not in key:
                client.upload_file(str(path), env["AWS_STORAGE_BUCKET_NAME"], key)
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


def main() -> int:
    if sys.argv[1:2] == ["--export"]:
        _setup_django(sys.argv[4])
        _export(sys.argv[2], int(sys.argv[3]))
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="practika-bench-export-"))
    media_root = scratch / "private-media"
    media_root.mkdir()
    _setup_django(str(media_root))
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from learning.models import Export
    from tenants import services
    from tenants.models import User

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    run = uuid.uuid4().hex[:6]
    owner = User.objects.create_user(email=f"bench-export-{run}@example.com", password=None)
    tenant = services.tenant_create(
        name="Bench export school", slug=f"bench-export-{run}", kind="school", owner=owner
    )
    students: list = []
    try:
        _seed(tenant, owner, students, media_root, scratch)
        with tenant_context(tenant):
            export = Export.objects.create(scope="tenant", requested_by=owner)
        loaded_kb, peak_kb, seconds, size, files, records = _run_export(
            tenant, export, media_root, {}
        )
        media = sum(
            p.stat().st_size
            for p in (media_root / "tenants").rglob("*")
            if p.is_file() and "/exports/" not in str(p)
        )
        print(
            f"# {STUDENTS} students, {REPLIES} replies, {files} files, {records} records; "
            f"{media / 1e6:.0f} MB of stored media read (hard links to {CLIPS} real MP4s)",
            flush=True,
        )
        print(
            f"# the exporting process held {int(loaded_kb) / 1024:.0f} MB before the export "
            "began (Python, Django, the apps, a database connection)",
            flush=True,
        )
        print(f"BENCH export_peak_mb {int(peak_kb) / 1024:.1f} MB", flush=True)
        print(f"BENCH export_seconds {float(seconds):.1f} s", flush=True)
        print(f"BENCH export_zip_mb {int(size) / 1e6:.0f} MB", flush=True)
        if S3:
            with tenant_context(tenant):
                export = Export.objects.create(scope="tenant", requested_by=owner)
            with _moto_bucket(media_root) as env:
                _, peak_kb, seconds, *_ = _run_export(tenant, export, media_root, env)
            print(f"BENCH export_s3_peak_mb {int(peak_kb) / 1024:.1f} MB", flush=True)
            print(f"BENCH export_s3_seconds {float(seconds):.1f} s", flush=True)
    finally:
        _cleanup(tenant, owner, students)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
