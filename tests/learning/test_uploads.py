"""Uploads straight to storage (local mode), processing, and signed playback.

The flow goes through the API exactly as the browser uploader does: start → PUT each part
to the URL it was given → complete with the parts' ETags. Processing runs synchronously
with `process_media.apply` inside the school's schema, as a worker would run it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from billing import plans
from learning import storage
from learning.media import services as media_services
from learning.media import tasks
from learning.media.pipeline.probing import format_bytes
from learning.models import Exercise, MediaFile
from learning.uploads import services as uploads
from tenants.models import Membership, Role
from tests.conftest import client_for
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory
from tests.support.media_samples import sample

MiB = 1024 * 1024


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _start(client, *, size: int, purpose: str = "reply", filename: str = "take.mp4"):
    return client.post(
        "/api/v1/uploads/",
        {"purpose": purpose, "filename": filename, "size": size, "content_type": "video/mp4"},
        content_type="application/json",
    )


def _put_parts(client, ticket: dict, data: bytes, order=None) -> list[dict]:
    size = ticket["part_size"]
    parts = ticket["parts"]
    done = []
    for part in [parts[i] for i in (order or range(len(parts)))]:
        n = part["number"]
        chunk = data[(n - 1) * size : n * size]
        response = client.put(_path(part["url"]), chunk, content_type="application/octet-stream")
        assert response.status_code == 200, response.content
        done.append({"number": n, "etag": response["ETag"]})
    return done


def _complete(client, ticket: dict, parts: list[dict]):
    return client.post(
        _path(ticket["complete_url"]), {"parts": parts}, content_type="application/json"
    )


def _upload(client, data: bytes, *, purpose: str = "reply"):
    """Start, send every part and complete; return the ticket and the completion response."""
    ticket = _start(client, size=len(data), purpose=purpose).json()
    parts = _put_parts(client, ticket, data)
    return ticket, _complete(client, ticket, parts)


@pytest.fixture
def queued(monkeypatch):
    """Media ids whose processing was queued (the Celery call is recorded, not sent)."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: calls.append(media_id))
    return calls


def _keys(prefix: str) -> set[str]:
    return {item.key.removeprefix(prefix) for item in storage.list_objects(prefix=prefix)}


# --- The whole flow -------------------------------------------------------------------------


def test_uploaded_video_is_processed_into_renditions(
    school_a, in_tenant, queued, django_capture_on_commit_callbacks
):
    # Given a student of school A with a real H.264 MP4
    client = client_for(school_a.student, school_a.host)
    data = sample("h264_aac.mp4").read_bytes()

    # When the browser uploads it through the API
    ticket = _start(client, size=len(data)).json()
    assert ticket["media"]["state"] == "awaiting_upload"
    assert [p["method"] for p in ticket["parts"]] == ["PUT"]
    parts = _put_parts(client, ticket, data)
    with django_capture_on_commit_callbacks(execute=True):
        response = _complete(client, ticket, parts)

    # Then the media is uploaded, sized, and its processing queued once, after commit
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "uploaded"
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.size_bytes == len(data)
        assert media.owner == school_a.student
        prefix = storage.media_prefix(media.public_id)
        assert media.source_key == (
            f"tenants/{school_a.tenant.public_id}/media/{media.public_id}/source"
        )
        assert _keys(prefix) == {"source"}  # the parts were joined and removed
        assert queued == [media.pk]

        # When a worker runs the task
        assert tasks.process_media.apply(args=[media.pk]).get() == "ready"

        # Then renditions, poster and waveform are stored at fixed keys
        media.refresh_from_db()
        assert media.state == "ready"
        assert media.renditions == {"720p": f"{prefix}720p.mp4"}
        assert media.poster_key == f"{prefix}poster.jpg"
        assert media.has_video and media.has_audio
        assert (media.width, media.height) == (960, 540)
        assert 1.9 < media.duration_s < 2.2
        assert len(media.waveform) > 10 and max(media.waveform) > 0.1
        assert media.processing_attempts == 1
        outputs = _keys(prefix)
        assert outputs == {"source", "720p.mp4", "poster.jpg", "waveform.json"}

        # And running it again (a redelivered message) changes nothing
        assert tasks.process_media.apply(args=[media.pk]).get() == "skipped"
        # And a task that died mid-transcode redoes the work over the same keys
        MediaFile.objects.filter(pk=media.pk).update(state="processing")
        assert tasks.process_media.apply(args=[media.pk]).get() == "ready"
        assert _keys(prefix) == outputs


def test_multipart_upload_joins_parts_in_order_and_text_fails_readably(
    school_a, in_tenant, queued
):
    # Given a 2-part "video" that is really text, parts sent last first
    client = client_for(school_a.teacher, school_a.host)
    data = b"These are my practice notes, not a video.\n" * (9 * MiB // 42)
    ticket = _start(client, size=len(data), purpose="demonstration", filename="notes.mp4").json()
    assert ticket["part_size"] == 8 * MiB
    assert len(ticket["parts"]) == 2
    parts = _put_parts(client, ticket, data, order=[1, 0])

    # When it is completed with the parts named in any order
    response = _complete(client, ticket, list(reversed(parts)))

    # Then the stored object is the file, byte for byte
    assert response.status_code == 200, response.content
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        stored = Path(storage.open_local(media.source_key).path).read_bytes()
        assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()

        # And processing says, in words, that this is not a recording
        assert tasks.process_media.apply(args=[media.pk]).get() == "failed"
        media.refresh_from_db()
        assert media.state == "failed"
        assert media.error_message == "This file is not a video or audio recording we can read."
        assert media.renditions == {}


def test_empty_file_fails_with_a_message(school_a, in_tenant, queued):
    client = client_for(school_a.student, school_a.host)

    ticket, response = _upload(client, b"")

    # Then it is refused at completion, with a sentence, and nothing is queued to process
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "failed"
    assert response.json()["error_message"].startswith("The file is empty (0 bytes)")
    assert queued == []
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.state == "failed"
        # And processing, should it run anyway, leaves it failed
        tasks.process_media.apply(args=[media.pk]).get()
        media.refresh_from_db()
        assert media.state == "failed"


# --- Refusals -------------------------------------------------------------------------------


def test_declared_size_over_the_limit_is_refused_before_anything_exists(
    school_a, in_tenant, settings
):
    settings.PRACTIKA_MAX_UPLOAD_BYTES = 10 * MiB
    client = client_for(school_a.student, school_a.host)
    with in_tenant(school_a.tenant):
        before = MediaFile.objects.count()

    response = _start(client, size=20 * MiB)

    assert response.status_code == 403
    assert response.json() == {
        "code": "file_too_large", "message": "This file is 21 MB; the limit is 10.5 MB.",
    }
    with in_tenant(school_a.tenant):
        assert MediaFile.objects.count() == before


def test_the_plan_limits_apply_before_the_upload_starts(school_a, in_tenant, settings):
    # Given a site limit above the free plan's storage (2 GB)
    settings.PRACTIKA_MAX_UPLOAD_BYTES = 10 * 1024**3
    client = client_for(school_a.student, school_a.host)
    with in_tenant(school_a.tenant):
        before = MediaFile.objects.count()

    response = _start(client, size=3 * 1024**3)

    assert response.status_code == 403
    assert response.json()["code"] == "storage_limit"
    with in_tenant(school_a.tenant):
        assert MediaFile.objects.count() == before


def test_students_cannot_upload_demonstrations(school_a):
    client = client_for(school_a.student, school_a.host)

    response = _start(client, size=100, purpose="demonstration")

    assert response.status_code == 403


def test_non_members_cannot_start_uploads(school_a, school_b):
    client = client_for(school_b.student, school_a.host)

    assert _start(client, size=100).status_code == 403


def test_forged_expired_and_foreign_upload_tokens_are_refused(
    school_a, school_b, in_tenant, monkeypatch
):
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=100).json()
    url = _path(ticket["parts"][0]["url"])
    token = url.split("/")[2]

    # A token with one character changed
    forged = url.replace(token, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    assert client.put(forged, b"x", content_type="application/octet-stream").status_code == 403

    # School A's token on school B's host, by someone who belongs to both
    Membership.objects.create(user=school_a.student, tenant=school_b.tenant, role=Role.STUDENT)
    on_b = client_for(school_a.student, school_b.host)
    assert on_b.put(url, b"x", content_type="application/octet-stream").status_code == 403

    # The genuine token once it has expired
    monkeypatch.setattr(uploads, "_now", lambda: time.time() + 7 * 24 * 3600)
    response = client.put(url, b"x", content_type="application/octet-stream")
    assert response.status_code == 403
    assert response.json()["code"] == "upload_token_expired"


def test_someone_elses_upload_cannot_be_completed_or_cancelled(school_a):
    owner = client_for(school_a.student, school_a.host)
    ticket = _start(owner, size=3).json()
    parts = _put_parts(owner, ticket, b"abc")
    other = client_for(school_a.other_student, school_a.host)

    assert _complete(other, ticket, parts).status_code == 403
    assert other.delete(_path(ticket["abort_url"])).status_code == 403


def test_a_part_larger_than_planned_is_refused(school_a):
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=10).json()

    response = client.put(
        _path(ticket["parts"][0]["url"]), b"x" * (8 * MiB + 1),
        content_type="application/octet-stream",
    )

    assert response.status_code == 400


def test_a_part_with_the_wrong_etag_is_refused_at_completion(
    school_a, queued, in_tenant, django_capture_on_commit_callbacks
):
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=3).json()
    parts = _put_parts(client, ticket, b"abc")

    # Processing is queued on commit: run the commit hooks so that a queued task would show.
    with django_capture_on_commit_callbacks(execute=True):
        response = _complete(client, ticket, [{"number": 1, "etag": '"0000"'}])

    assert response.status_code == 400
    assert response.json()["code"] == "parts_invalid"
    assert queued == []
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.state == MediaFile.State.AWAITING_UPLOAD
    # And the genuine ETag still completes it, and queues processing once (the positive control)
    with django_capture_on_commit_callbacks(execute=True):
        completed = _complete(client, ticket, parts)
    assert completed.status_code == 200, completed.content
    assert queued == [media.pk]


def test_a_file_larger_than_the_limit_once_stored_is_refused_at_completion(
    school_a, in_tenant, queued, settings, django_capture_on_commit_callbacks
):
    # Given a site limit of 1 MiB and an upload declared at 100 bytes (so it may start)
    settings.PRACTIKA_MAX_UPLOAD_BYTES = MiB
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=100).json()
    assert ticket["part_size"] > 2 * MiB  # one part may carry more than the limit
    # When the client sends 2 MiB instead (a presigned S3 URL cannot cap what arrives)
    parts = _put_parts(client, ticket, b"x" * (2 * MiB))
    with in_tenant(school_a.tenant):
        prefix = storage.media_prefix(ticket["media"]["id"])

    with django_capture_on_commit_callbacks(execute=True):
        response = _complete(client, ticket, parts)

    # Then the size that arrived is checked: the media failed, with the sizes named; nothing
    # is processed, and the stored bytes are removed once that is committed
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "failed"
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.state == MediaFile.State.FAILED
        assert media.size_bytes == 2 * MiB
        assert media.error_message == "This file is 2.1 MB; the limit is 1 MB."
        assert _keys(prefix) == set()
    assert queued == []


def test_bytes_beyond_the_declared_size_count_against_the_storage_quota(
    school_a, in_tenant, queued, django_capture_on_commit_callbacks
):
    # Given a free school 1 MiB short of its storage quota, and an upload declared at 100
    # bytes (so it may start)
    with in_tenant(school_a.tenant):
        MediaFileFactory(owner=school_a.teacher, size_bytes=2 * plans.GB - MiB)
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=100).json()
    assert "media" in ticket, ticket
    # When 2 MiB arrive instead
    parts = _put_parts(client, ticket, b"x" * (2 * MiB))
    with django_capture_on_commit_callbacks(execute=True):
        response = _complete(client, ticket, parts)

    # Then the quota is asked again with what arrived: the media failed, naming the limit
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "failed"
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.state == MediaFile.State.FAILED
        assert "storage limit of 2 GB" in media.error_message
    assert queued == []

    # And the same upload that keeps to what it declared completes (the positive control)
    ticket = _start(client, size=100).json()
    parts = _put_parts(client, ticket, b"x" * 100)
    with django_capture_on_commit_callbacks(execute=True):
        response = _complete(client, ticket, parts)
    assert response.json()["state"] == "uploaded"
    assert len(queued) == 1


def test_processing_checks_the_size_of_the_bytes_again(school_a, in_tenant, queued, settings):
    # Given an upload that completed under the limit, and a limit lowered since
    client = client_for(school_a.student, school_a.host)
    data = sample("h264_aac.mp4").read_bytes()
    ticket, response = _upload(client, data)
    assert response.json()["state"] == "uploaded"
    settings.PRACTIKA_MAX_UPLOAD_BYTES = len(data) - 1

    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        # When the worker processes it, then the probe refuses it by its real size
        assert tasks.process_media.apply(args=[media.pk]).get() == "failed"
        media.refresh_from_db()
        assert media.state == MediaFile.State.FAILED
        size = format_bytes(len(data))
        limit = format_bytes(len(data) - 1)
        assert media.error_message == f"This file is {size}; the limit is {limit}."
        assert media.renditions == {}
        assert _keys(storage.media_prefix(media.public_id)) == {"source"}  # nothing transcoded


def test_a_retried_part_replaces_the_first_attempt_and_complete_is_idempotent(
    school_a, queued, in_tenant, django_capture_on_commit_callbacks
):
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=3).json()
    url = _path(ticket["parts"][0]["url"])
    client.put(url, b"ab", content_type="application/octet-stream")  # cut off
    etag = client.put(url, b"abc", content_type="application/octet-stream")["ETag"]
    assert etag == f'"{hashlib.md5(b"abc").hexdigest()}"'  # noqa: S324 - S3's ETag is an MD5

    # The resume endpoint shows what is stored
    status = client.get(_path(ticket["abort_url"])).json()
    assert status["uploaded_parts"] == [{"number": 1, "etag": etag, "size": 3}]

    with django_capture_on_commit_callbacks(execute=True):
        first = _complete(client, ticket, [{"number": 1, "etag": etag}])
        again = _complete(client, ticket, [{"number": 1, "etag": etag}])

    assert first.json()["state"] == again.json()["state"] == "uploaded"
    assert len(queued) == 1
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert storage.open_local(media.source_key).path.read_bytes() == b"abc"


def test_cancel_removes_the_parts_and_the_media_file(school_a, in_tenant):
    client = client_for(school_a.student, school_a.host)
    ticket = _start(client, size=3).json()
    _put_parts(client, ticket, b"abc")
    with in_tenant(school_a.tenant):
        prefix = storage.media_prefix(ticket["media"]["id"])
        assert _keys(prefix)  # the part is stored

    response = client.delete(_path(ticket["abort_url"]))

    assert response.status_code == 204
    with in_tenant(school_a.tenant):
        assert not MediaFile.objects.filter(public_id=ticket["media"]["id"]).exists()
        assert _keys(prefix) == set()
    part = client.put(
        _path(ticket["parts"][0]["url"]), b"abc", content_type="application/octet-stream"
    )
    assert part.status_code == 404


# --- Playback -------------------------------------------------------------------------------


def _ready_media(school, *, owner, purpose="reply") -> MediaFile:
    """A ready media file whose 720p rendition is 10 KiB of known bytes in storage."""
    media = MediaFileFactory(owner=owner, purpose=purpose)
    key = f"{storage.media_prefix(media.public_id)}720p.mp4"
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "720p.mp4"
        body.write_bytes(bytes(range(256)) * 40)
        storage.upload(path=body, key=key, content_type="video/mp4")
    media.renditions = {"720p": key}
    media.save(update_fields=["renditions"])
    return media


def test_playback_url_is_signed_supports_range_and_expires(school_a, in_tenant, monkeypatch):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.student)
        ReplyFactory(student=school_a.student, media=media, exercise__created_by=school_a.teacher)
    client = client_for(school_a.student, school_a.host)

    detail = client.get(f"/api/v1/media/{media.public_id}/").json()

    assert detail["state"] == "ready"
    url = _path(detail["renditions"]["720p"])
    assert url.startswith("/media-signed/")
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 40
    part = client.get(url, headers={"Range": "bytes=256-511"})
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 256-511/10240"
    assert part["Content-Length"] == "256"
    assert b"".join(part.streaming_content) == bytes(range(256))
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert b"".join(tail.streaming_content) == bytes(range(246, 256))
    assert client.get(url, headers={"Range": "bytes=99999-"}).status_code == 416

    # Five minutes later the URL no longer works
    monkeypatch.setattr(storage.tokens, "_now", lambda: time.time() + 301)
    assert client.get(url).status_code == 404


def test_a_playback_url_works_only_on_its_own_schools_host(school_a, school_b, in_tenant):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.student)
        url = _path(media_services.media_playback(media=media).renditions["720p"])
    # Someone who belongs to both schools replays school A's URL on school B's host
    Membership.objects.create(user=school_a.student, tenant=school_b.tenant, role=Role.STUDENT)

    assert client_for(school_a.student, school_a.host).get(url).status_code == 200
    assert client_for(school_a.student, school_b.host).get(url).status_code == 404


def test_forged_playback_tokens_and_raw_paths_are_refused(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.student)
        url = _path(media_services.media_playback(media=media).renditions["720p"])
        key = media.renditions["720p"]
    client = client_for(school_a.teacher, school_a.host)
    token = url.split("/")[2]

    assert client.get(url.replace(token, token[:-3] + "abc")).status_code == 404
    assert client.get(f"/media-signed/{key}/").status_code == 404
    assert client.get(f"/media/{key}").status_code == 404
    # The recordings folder is not the public MEDIA_ROOT (where logos live, served by /media/
    # in development), nor inside it, in the settings as configured. Read from the settings
    # modules: the `settings` fixture (and tests/learning/conftest.py) replaced
    # PRIVATE_MEDIA_ROOT for this test, so comparing `settings` would compare nothing real.
    import importlib

    for name in ("config.settings.base", "config.settings.test"):
        configured = importlib.import_module(name)
        private = Path(configured.PRIVATE_MEDIA_ROOT).resolve()
        public = Path(configured.MEDIA_ROOT).resolve()
        assert private != public, name
        assert public not in private.parents, (name, private, public)
        assert private not in public.parents, (name, private, public)


def test_reply_media_is_only_for_its_student_and_the_teachers(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.student)
        ReplyFactory(student=school_a.student, media=media, exercise__created_by=school_a.teacher)
    url = f"/api/v1/media/{media.public_id}/"

    assert client_for(school_a.student, school_a.host).get(url).status_code == 200
    assert client_for(school_a.teacher, school_a.host).get(url).status_code == 200
    refused = client_for(school_a.other_student, school_a.host).get(url)
    assert refused.status_code == 404
    assert "renditions" not in refused.json()


def test_demonstration_media_is_only_for_students_it_is_assigned_to(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.teacher, purpose="demonstration")
        exercise = ExerciseFactory(created_by=school_a.teacher, demo=media, assign_to_all=False)
        exercise.assigned_students.set([school_a.student])
    url = f"/api/v1/media/{media.public_id}/"

    assert client_for(school_a.student, school_a.host).get(url).status_code == 200
    assert client_for(school_a.other_student, school_a.host).get(url).status_code == 404

    with in_tenant(school_a.tenant):
        Exercise.objects.filter(pk=exercise.pk).update(status="draft")
    assert client_for(school_a.student, school_a.host).get(url).status_code == 404


def test_school_b_cannot_read_school_a_media_by_id(school_a, school_b, in_tenant):
    with in_tenant(school_a.tenant):
        media = _ready_media(school_a, owner=school_a.student)

    response = client_for(school_b.teacher, school_b.host).get(f"/api/v1/media/{media.public_id}/")

    assert response.status_code == 404


# --- Deleting and sweeping ------------------------------------------------------------------


def test_deleting_stored_objects_stays_inside_the_tenant(school_a, school_b, in_tenant):
    with in_tenant(school_b.tenant):
        theirs = _ready_media(school_b, owner=school_b.student)
        their_prefix = storage.media_prefix(theirs.public_id)
    with in_tenant(school_a.tenant):
        ours = _ready_media(school_a, owner=school_a.student)
        our_prefix = storage.media_prefix(ours.public_id)

        deleted = tasks.delete_stored_objects.apply(
            args=[[their_prefix, our_prefix, f"tenants/{school_a.tenant.public_id}/"]]
        ).get()

        assert deleted == 1
        assert _keys(our_prefix) == set()
    with in_tenant(school_b.tenant):
        assert _keys(their_prefix) == {"720p.mp4"}


@pytest.mark.parametrize("path", ["page", "api"])
def test_deleting_an_exercise_deletes_its_media_and_their_objects_after_commit(
    school_a, in_tenant, monkeypatch, django_capture_on_commit_callbacks, path
):
    from django.db import connection

    queued: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(
        tasks.delete_stored_objects, "delay",
        lambda prefixes: queued.append((connection.schema_name, prefixes)),
    )
    # Given an exercise whose demonstration and two replies are stored, and another exercise
    with in_tenant(school_a.tenant):
        demo = _ready_media(school_a, owner=school_a.teacher, purpose="demonstration")
        exercise = ExerciseFactory(created_by=school_a.teacher, demo=demo)
        replies = [
            ReplyFactory(
                exercise=exercise, student=student, media=_ready_media(school_a, owner=student)
            )
            for student in (school_a.student, school_a.other_student)
        ]
        media = [demo, *(reply.media for reply in replies)]
        prefixes = [storage.media_prefix(m.public_id) for m in media]
        other = _ready_media(school_a, owner=school_a.student)
        ReplyFactory(exercise__created_by=school_a.teacher, student=school_a.student, media=other)
    teacher = client_for(school_a.teacher, school_a.host)

    # When the teacher deletes it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if path == "page":
            response = teacher.post(f"/teach/exercises/{exercise.public_id}/delete/")
            assert response.status_code == 302
        else:
            response = teacher.delete(f"/api/v1/exercises/{exercise.public_id}/")
            assert response.status_code == 204
        # Then the rows are gone at once, the stored objects only once the deletion commits
        with in_tenant(school_a.tenant):
            assert not Exercise.objects.filter(pk=exercise.pk).exists()
            assert not MediaFile.objects.filter(pk__in=[m.pk for m in media]).exists()
            assert all(_keys(prefix) == {"720p.mp4"} for prefix in prefixes)
        assert queued == []
    assert callbacks
    assert len(queued) == 1
    schema, queued_prefixes = queued[0]
    assert schema == school_a.tenant.schema_name  # the task runs in the school's schema
    assert sorted(queued_prefixes) == sorted(prefixes)

    # And the queued task removes exactly those objects
    with in_tenant(school_a.tenant):
        assert tasks.delete_stored_objects.apply(args=[queued_prefixes]).get() == 3
        assert all(_keys(prefix) == set() for prefix in prefixes)
        assert _keys(storage.media_prefix(other.public_id)) == {"720p.mp4"}
        assert MediaFile.objects.filter(pk=other.pk).exists()


def test_sweep_removes_orphans_and_abandoned_uploads(school_a, in_tenant, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)  # only this test's objects
    client = client_for(school_a.student, school_a.host)
    abandoned = _start(client, size=3).json()
    _put_parts(client, abandoned, b"abc")
    fresh = _start(client, size=3).json()
    with in_tenant(school_a.tenant):
        kept = _ready_media(school_a, owner=school_a.student)
        orphan = _ready_media(school_a, owner=school_a.student)
        orphan_prefix = storage.media_prefix(orphan.public_id)
        MediaFile.objects.filter(pk=orphan.pk).delete()  # the row went, the objects stayed
        MediaFile.objects.filter(public_id=abandoned["media"]["id"]).update(
            created_at=MediaFile.objects.get(public_id=abandoned["media"]["id"]).created_at
            - timedelta(days=2)
        )
        # Everything on disk is two hours old: past the grace period for orphans
        for dirpath, _, filenames in os.walk(tmp_path):
            for name in [*filenames, "."]:
                os.utime(Path(dirpath) / name, (time.time() - 7200, time.time() - 7200))

        result = tasks.sweep_tenant_media.apply().get()

        assert result == {"stale_uploads": 1, "orphaned_objects": 1}
        assert _keys(orphan_prefix) == set()
        assert _keys(storage.media_prefix(abandoned["media"]["id"])) == set()
        assert not MediaFile.objects.filter(public_id=abandoned["media"]["id"]).exists()
        assert MediaFile.objects.filter(public_id=fresh["media"]["id"]).exists()
        assert _keys(storage.media_prefix(kept.public_id)) == {"720p.mp4"}


def test_the_daily_sweep_runs_once_per_tenant_in_its_schema(schools, db, monkeypatch):
    from django.db import connection

    seen: list[str] = []
    monkeypatch.setattr(
        tasks.sweep_tenant_media, "delay", lambda: seen.append(connection.schema_name)
    )

    tasks.sweep_orphaned_media.apply().get()

    assert schools.a.tenant.schema_name in seen
    assert schools.b.tenant.schema_name in seen
    assert "public" not in seen
    assert len(seen) == len(set(seen))


# --- Retries ---------------------------------------------------------------------------------


def test_storage_trouble_is_retried_then_reported(school_a, in_tenant, monkeypatch):
    calls = []

    def unreachable(**kwargs):
        calls.append(kwargs)
        raise storage.StorageUnavailable("connection refused")

    monkeypatch.setattr(storage, "download", unreachable)
    with in_tenant(school_a.tenant):
        media = MediaFileFactory(owner=school_a.student, state="uploaded")

        tasks.process_media.apply(args=[media.pk])

        media.refresh_from_db()
        assert len(calls) == tasks.PROCESS_MAX_RETRIES + 1
        assert media.state == "failed"
        assert media.error_message == tasks.MESSAGE_GAVE_UP


def test_a_bad_file_is_not_retried(school_a, in_tenant, monkeypatch):
    calls = []
    real_download = storage.download

    def download(**kwargs):
        calls.append(kwargs)
        real_download(**kwargs)

    monkeypatch.setattr(storage, "download", download)
    client = client_for(school_a.student, school_a.host)
    ticket, _ = _upload(client, sample("notes.mp4").read_bytes())
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])

        tasks.process_media.apply(args=[media.pk])

        media.refresh_from_db()
        assert media.state == "failed"
        assert len(calls) == 1
