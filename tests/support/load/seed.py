"""Seed the load test's tenants once, fast, in the database the web server and worker will use.

    python -m tests.support.load.seed --tenants 20 --members 200 --demo demo.mp4 --out plan.json

Run by run.py as a child process with the same production settings and environment as the
web server, so the sessions it makes are read by the web server exactly as its own.

Each tenant is a school on the School plan (assigned by staff, so no seat limit) with
`members / tenants` members: one in five teaches (the owner first), the others are students.
Every tenant has three published exercises assigned to all, each with a processed
demonstration: the clip is uploaded to storage and processed by the real pipeline once, in the
first tenant, and its stored files are copied into the other tenants' folders (processing it
twenty times would only take longer). Each student has two earlier replies, so the inbox and
the compare pages have something to show from the first second; they play the tenant's
demonstration files. Members are logged in here, not through the login form: twenty
password hashes a second would measure the hasher, not the pages (docs/scaling.md).

Writes the plan the locustfile reads: hosts, each member's role, session and exercises.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from importlib import import_module
from pathlib import Path

SLUG_PREFIX = "load"
EXERCISES = 3
EARLIER_REPLIES = 2


def _setup() -> None:
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    # Production serves hashed, compressed static files from the manifest the image builds;
    # compressing them all takes a while, so only when a source is newer than the manifest.
    if not _static_collected():
        call_command("collectstatic", interactive=False, verbosity=0)


def _static_collected() -> bool:
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(
        Path(storage.path(path)).stat().st_mtime < built
        for finder in get_finders()
        for path, storage in finder.list([])
    )


def _school(n: int, owner):
    from billing import plans
    from billing.models import Subscription
    from tenants import services

    tenant = services.tenant_create(
        name=f"Load School {n:02d}", slug=f"{SLUG_PREFIX}-{n:02d}", kind="school", owner=owner
    )
    price = plans.SCHOOL.prices[0]
    Subscription.objects.create(
        source=Subscription.Source.MANUAL,
        tenant=tenant,
        plan_code=plans.SCHOOL.code,
        price_lookup_key=price.lookup_key,
        status=Subscription.Status.ACTIVE,
        unit_amount=price.unit_amount,
    )
    return tenant


def _processed_demo(*, tenant, owner, clip: Path):
    """The demonstration, uploaded and processed by the real pipeline in `tenant`."""
    from django_tenants.utils import tenant_context

    from learning import storage
    from learning.media import services as media_services
    from learning.models import MediaFile

    with tenant_context(tenant):
        public_id = uuid.uuid4()
        key = f"{storage.media_prefix(public_id)}source"
        storage.upload(path=clip, key=key, content_type="video/mp4")
        size = clip.stat().st_size
        media = MediaFile.objects.create(
            public_id=public_id,
            owner=owner,
            purpose=MediaFile.Purpose.DEMONSTRATION,
            state=MediaFile.State.UPLOADED,
            original_name=clip.name,
            source_key=key,
            declared_bytes=size,
            size_bytes=size,
        )
        media = media_services.media_process(media_id=media.pk)
        if media is None or media.state != MediaFile.State.READY:
            raise RuntimeError(
                f"the demonstration was not processed: {media and media.error_message}"
            )
        return media


def _stored_files(*, media, tenant, scratch: Path) -> list[Path]:
    """`media`'s stored objects (source, renditions, poster, waveform), downloaded once."""
    from django_tenants.utils import tenant_context

    from learning import storage

    folder = scratch / str(media.public_id)
    if not folder.exists():
        folder.mkdir()
        with tenant_context(tenant):
            for stored in storage.list_objects(prefix=_prefix(media)):
                storage.download(key=stored.key, path=folder / stored.key.rsplit("/", 1)[1])
    return sorted(folder.iterdir())


def _prefix(media) -> str:
    return media.source_key.rsplit("/", 1)[0] + "/"


def _copy_media(*, original, files: list[Path], tenant, owner, purpose: str):
    """A ready media row in `tenant` whose stored files are copies of `original`'s."""
    from django.forms.models import model_to_dict
    from django_tenants.utils import tenant_context

    from learning import storage
    from learning.models import MediaFile

    old_prefix = _prefix(original)
    with tenant_context(tenant):
        public_id = uuid.uuid4()
        new_prefix = storage.media_prefix(public_id)
        for path in files:
            storage.upload(path=path, key=new_prefix + path.name, content_type="")
        fields = model_to_dict(original, exclude=["id", "owner", "public_id"])
        fields |= {
            "public_id": public_id,
            "owner": owner,
            "purpose": purpose,
            "source_key": original.source_key.replace(old_prefix, new_prefix),
            "renditions": {
                name: key.replace(old_prefix, new_prefix)
                for name, key in original.renditions.items()
            },
            "poster_key": original.poster_key.replace(old_prefix, new_prefix),
        }
        return MediaFile.objects.create(**fields)


def _session(user, tenant) -> str:
    """A logged-in session for `user` on `tenant`'s host, made by the configured engine."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_tenants.utils import tenant_context

    store = import_module(settings.SESSION_ENGINE).SessionStore
    with tenant_context(tenant):
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        return session.session_key


def seed(*, tenants: int, members: int, demo: Path, scratch: Path) -> dict:
    from django.conf import settings
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from analytics import rollups
    from learning.models import ActivityEvent, Classroom, Comment, Exercise, MediaFile, Reply
    from tenants import hosts
    from tenants.models import Membership, Role, User

    per_tenant = max(2, members // tenants)
    teaching = max(1, per_tenant // 5)
    plan = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "members": [],
    }
    original, files = None, []
    for n in range(tenants):
        users = User.objects.bulk_create(
            [
                User(
                    email=f"load-{n:02d}-{m:03d}@example.com",
                    full_name=f"Member {n:02d}-{m:03d}",
                    password="!",
                )
                for m in range(per_tenant)
            ]
        )
        owner, teachers, students = users[0], users[1:teaching], users[teaching:]
        tenant = _school(n, owner)
        Membership.objects.bulk_create(
            [Membership(user=u, tenant=tenant, role=Role.TEACHER) for u in teachers]
            + [Membership(user=u, tenant=tenant, role=Role.STUDENT) for u in students]
        )
        if original is None:
            original = _processed_demo(tenant=tenant, owner=owner, clip=demo)
            files = _stored_files(media=original, tenant=tenant, scratch=scratch)
        with transaction.atomic():
            demos = [
                _copy_media(
                    original=original,
                    files=files,
                    tenant=tenant,
                    owner=owner,
                    purpose=MediaFile.Purpose.DEMONSTRATION,
                )
                for _ in range(EXERCISES)
            ]
        with tenant_context(tenant), transaction.atomic():
            # One class: its teachers see its students' replies (learning.coteachers' rule;
            # the owner, who made the exercises, sees them all anyway).
            strings = Classroom.objects.create(name="Strings", created_by=owner)
            strings.students.add(*students)
            strings.teachers.add(owner, *teachers)
            exercises = Exercise.objects.bulk_create(
                [
                    Exercise(
                        title=f"Study {e + 1}",
                        instructions="Play it **slowly**, then in time.",
                        created_by=owner,
                        demo=demos[e],
                        status=Exercise.Status.PUBLISHED,
                        published_at=original.processed_at,
                        assign_to_all=True,
                    )
                    for e in range(EXERCISES)
                ]
            )
            demo_row = demos[0]
            reply_media = MediaFile.objects.bulk_create(
                [
                    MediaFile(
                        owner=student,
                        purpose=MediaFile.Purpose.REPLY,
                        state=MediaFile.State.READY,
                        source_key=demo_row.source_key,
                        renditions=demo_row.renditions,
                        poster_key=demo_row.poster_key,
                        waveform=demo_row.waveform,
                        duration_s=demo_row.duration_s,
                        has_video=True,
                        has_audio=True,
                        width=demo_row.width,
                        height=demo_row.height,
                        size_bytes=demo_row.size_bytes,
                        processed_at=demo_row.processed_at,
                    )
                    for student in students
                    for _ in range(EARLIER_REPLIES)
                ]
            )
            replies = Reply.objects.bulk_create(
                [
                    Reply(
                        exercise=exercises[r % EARLIER_REPLIES],
                        student=media.owner,
                        attempt=1,
                        media=media,
                        status="reviewed" if r % 2 else "submitted",
                        reviewed_by=owner if r % 2 else None,
                        reviewed_at=media.processed_at if r % 2 else None,
                    )
                    for r, media in enumerate(reply_media)
                ]
            )
            Comment.objects.bulk_create(
                [
                    Comment(reply=reply, author=owner, at_ms=2500, body="Steadier here.")
                    for reply in replies[1::2]
                ]
            )
            ActivityEvent.objects.bulk_create(
                [
                    ActivityEvent(
                        kind="reply_submitted",
                        actor_id=reply.student_id,
                        occurred_at=reply.created_at,
                        data={
                            "reply": str(reply.public_id),
                            "student_id": reply.student_id,
                            "role": "student",
                        },
                    )
                    for reply in replies
                ]
            )
            rollups.rebuild()
        host = hosts.tenant_hostname(tenant.slug)
        exercise_ids = [str(e.public_id) for e in exercises]
        for user in users:
            plan["members"].append(
                {
                    "tenant": tenant.slug,
                    "host": host,
                    "role": "student" if user in students else "teacher",
                    "session": _session(user, tenant),
                    "exercises": exercise_ids,
                }
            )
    return plan


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.load.seed")
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--demo", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.production":
        raise SystemExit("the load test seeds with the production settings it runs under")
    started = time.perf_counter()
    _setup()
    _migrate()
    migrated = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="practika-load-seed-") as scratch:
        plan = seed(
            tenants=args.tenants, members=args.members, demo=args.demo, scratch=Path(scratch)
        )
    args.out.write_text(json.dumps(plan))
    print(
        f"# seed: migrated and collected static files in {migrated - started:.1f} s, seeded "
        f"{args.tenants} tenants and {len(plan['members'])} members in "
        f"{time.perf_counter() - migrated:.1f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
