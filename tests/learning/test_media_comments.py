"""Voice and video notes on comments (issue 18, learning.media_comments), through HTTP on the
tenants' hosts: who may record and play them, the 404s for everyone else (page, API, media
URL), the length limit, deletion with the comment (and with a member, a retention sweep or an
exercise), the export's mention, and the comment list's query count with recordings."""

from __future__ import annotations

import json
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning import deletion, storage
from learning.exercises import services as exercise_services
from learning.exports.sections import Scope, learning_sections
from learning.media import services as media_services
from learning.media.pipeline.runner import ffmpeg_exe
from learning.models import Comment, Exercise, Export, MediaFile, Reply
from tenants.models import CommentsOnDeletion, Membership
from tests.conftest import client_for
from tests.learning.test_exports import _ask, _build, queued  # noqa: F401 - a fixture
from tests.support.export_content import _recording, archive_of, make_content
from tests.support.factories import (
    CommentFactory,
    ExerciseFactory,
    MediaFileFactory,
    ReplyFactory,
)

pytestmark = pytest.mark.django_db


def _note(owner, *, state=MediaFile.State.READY, has_video=True) -> MediaFile:
    """A processed comment recording (inside the tenant's schema)."""
    media = MediaFileFactory(
        owner=owner,
        purpose=MediaFile.Purpose.COMMENT,
        state=state,
        has_video=has_video,
        original_name="video-note.webm",
        duration_s=4.0,
    )
    prefix = storage.media_prefix(media.public_id)
    media.renditions = {"720p" if has_video else "audio": f"{prefix}720p.mp4"}
    media.poster_key = f"{prefix}poster.jpg" if has_video else ""
    media.save(update_fields=["renditions", "poster_key"])
    return media


def _reply(school) -> Reply:
    exercise = ExerciseFactory(created_by=school.teacher)
    return ReplyFactory(exercise=exercise, student=school.student, attempt=1)


def _post_note(client, reply: Reply, media: MediaFile, body: str = "", at_ms: int = 2500):
    return client.post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": body, "at_ms": at_ms, "side": "reply", "media": str(media.public_id)},
        content_type="application/json",
    )


def _store(key: str, folder) -> None:
    """Put a few bytes at `key` in the tenant's storage (inside its schema)."""
    path = folder / "object"
    path.write_bytes(b"\x00" * 64)
    storage.upload(path=path, key=key, content_type="video/mp4")


def test_a_teacher_posts_a_recorded_note_and_the_student_plays_it(school_a, tmp_path):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
    teacher = client_for(school_a.teacher, school_a.host)
    posted = _post_note(teacher, reply, media)
    assert posted.status_code == 201, posted.content
    assert posted.json()["body"] == ""
    assert posted.json()["media"]["public_id"] == str(media.public_id)

    student = client_for(school_a.student, school_a.host)
    threads = student.get(f"/api/v1/replies/{reply.public_id}/comments/").json()
    shown = threads[0]["media"]
    assert shown["state"] == "ready" and shown["kind"] == "video"
    assert shown["src"].startswith("/media-signed/") and shown["poster"]
    # The signed URL plays on the tenant's host (the stored object is there).
    with tenant_context(school_a.tenant):
        _store(media.renditions["720p"], tmp_path)
    assert student.get(shown["src"]).status_code == 200
    assert student.get(f"/api/v1/media/{media.public_id}/").status_code == 200


def test_text_and_recording_together_and_text_alone(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher, has_video=False)
    teacher = client_for(school_a.teacher, school_a.host)
    both = _post_note(teacher, reply, media, body="Listen to the bow change")
    assert both.status_code == 201
    assert both.json()["media"]["kind"] == "audio" and both.json()["media"]["poster"] is None
    text = teacher.post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": "Text only", "at_ms": 100, "side": "reply"},
        content_type="application/json",
    )
    assert text.status_code == 201 and text.json()["media"] is None
    empty = teacher.post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": "", "at_ms": 100, "side": "reply"},
        content_type="application/json",
    )
    assert empty.status_code == 400 and empty.json()["code"] == "body_required"


def test_a_note_still_processing_shows_its_state_without_a_url(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher, state=MediaFile.State.PROCESSING)
    teacher = client_for(school_a.teacher, school_a.host)
    assert _post_note(teacher, reply, media).status_code == 201
    shown = teacher.get(f"/api/v1/replies/{reply.public_id}/comments/").json()[0]["media"]
    assert shown == {
        "public_id": str(media.public_id),
        "state": "processing",
        "error_message": "",
        "kind": None,
        "duration_s": 4.0,
        "src": None,
        "poster": None,
    }


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("student", 403, "teachers_only"),
        ("someone_elses", 403, "media_forbidden"),
        ("reply_purpose", 403, "media_forbidden"),
        ("awaiting_upload", 400, "upload_incomplete"),
        ("failed", 400, "media_failed"),
        ("used", 400, "media_used"),
        ("missing", 404, "media_not_found"),
    ],
)
def test_recordings_a_comment_cannot_take(school_a, case, status, code):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        author = school_a.teacher
        media = _note(school_a.teacher)
        if case == "student":
            author = school_a.student
            media = _note(school_a.student)
        elif case == "someone_elses":
            media = _note(school_a.owner)
        elif case == "reply_purpose":
            media.purpose = MediaFile.Purpose.REPLY
            media.save(update_fields=["purpose"])
        elif case in ("awaiting_upload", "failed"):
            media.state = case
            media.save(update_fields=["state"])
        elif case == "used":
            CommentFactory(reply=reply, author=school_a.teacher, media=media)
        elif case == "missing":
            media.delete()
    answer = _post_note(client_for(author, school_a.host), reply, media)
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code


def test_only_teachers_upload_comment_recordings(school_a):
    body = {"purpose": "comment", "filename": "note.webm", "size": 1000}
    student = client_for(school_a.student, school_a.host)
    refused = student.post("/api/v1/uploads/", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "teachers_only"
    teacher = client_for(school_a.teacher, school_a.host)
    started = teacher.post("/api/v1/uploads/", body, content_type="application/json")
    assert started.status_code == 201, started.content
    teacher.delete(started.json()["abort_url"])


def test_other_members_and_other_tenants_get_404_for_the_note(school_a, school_b, tmp_path):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
        comment = CommentFactory(reply=reply, author=school_a.teacher, body="", media=media)
        src = storage.playback_url(media.renditions["720p"], 300)
        _store(media.renditions["720p"], tmp_path)

    classmate = client_for(school_a.other_student, school_a.host)
    assert classmate.get(f"/replies/{reply.public_id}/").status_code == 404  # the page
    assert classmate.get(f"/api/v1/replies/{reply.public_id}/comments/").status_code == 404
    assert classmate.get(f"/api/v1/media/{media.public_id}/").status_code == 404
    edit = classmate.patch(
        f"/api/v1/comments/{comment.public_id}/", {"body": "x"}, content_type="application/json"
    )
    assert edit.status_code == 404

    # Another tenant's teacher, on their own host: nothing of school A's is there, the signed
    # URL included (it is bound to the tenant whose host serves it).
    outsider = client_for(school_b.teacher, school_b.host)
    assert outsider.get(f"/replies/{reply.public_id}/").status_code == 404
    assert outsider.get(f"/api/v1/replies/{reply.public_id}/comments/").status_code == 404
    assert outsider.get(f"/api/v1/media/{media.public_id}/").status_code == 404
    assert outsider.get(src).status_code == 404
    # ...and the same URL plays on school A's host for the reply's student.
    assert client_for(school_a.student, school_a.host).get(src).status_code == 200


def test_deleting_the_comment_deletes_its_recording(school_a, django_capture_on_commit_callbacks):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
        answer_media = _note(school_a.teacher)
        comment = CommentFactory(reply=reply, author=school_a.teacher, body="", media=media)
        CommentFactory(reply=reply, author=school_a.teacher, parent=comment, media=answer_media)
    teacher = client_for(school_a.teacher, school_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        assert teacher.delete(f"/api/v1/comments/{comment.public_id}/").status_code == 204
    with tenant_context(school_a.tenant):
        assert not MediaFile.objects.filter(pk__in=[media.pk, answer_media.pk]).exists()


def test_a_deleted_students_replies_take_the_notes_on_them(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
        CommentFactory(reply=reply, author=school_a.teacher, media=media)
        member = Membership.objects.get(tenant=school_a.tenant, user=school_a.student)
        counts = deletion.member_purge(member=member, comments=CommentsOnDeletion.ANONYMISE)
        assert counts["recordings"] == 2  # the reply's and the note's
        assert not MediaFile.objects.filter(pk=media.pk).exists()


def test_a_deleted_teachers_notes_lose_their_recording(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        spoken = _note(school_a.owner)
        both = _note(school_a.owner)
        bare = CommentFactory(reply=reply, author=school_a.owner, body="", media=spoken)
        kept = CommentFactory(reply=reply, author=school_a.owner, body="Slower", media=both)
        answer = CommentFactory(reply=reply, author=school_a.teacher, parent=bare, body="Ok")
        member = Membership.objects.get(tenant=school_a.tenant, user=school_a.owner)
        deletion.member_purge(member=member, comments=CommentsOnDeletion.ANONYMISE)
        assert not Comment.objects.filter(pk=bare.pk).exists()
        kept.refresh_from_db()
        answer.refresh_from_db()
        assert kept.author_id is None and kept.media_id is None and kept.body == "Slower"
        assert answer.parent_id is None
        assert not MediaFile.objects.filter(pk__in=[spoken.pk, both.pk]).exists()


def test_deleting_the_exercise_deletes_the_notes_on_its_replies(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
        CommentFactory(reply=reply, author=school_a.teacher, media=media)
        member = Membership.objects.get(tenant=school_a.tenant, user=school_a.teacher)
        exercise_services.exercise_delete(member=member, exercise=reply.exercise)
        assert not Exercise.objects.filter(pk=reply.exercise_id).exists()
        assert not MediaFile.objects.filter(pk=media.pk).exists()


def test_the_export_names_each_comments_recording(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
        media = _note(school_a.teacher)
        comment = CommentFactory(reply=reply, author=school_a.teacher, media=media)
        scope = Scope(tenant=school_a.tenant, user=school_a.owner, personal=False)
        sections = {s.name: s for s in learning_sections(scope)}
        rows = {r["public_id"]: r for r in sections["comments"].rows()}
        assert rows[comment.public_id]["media_public_id"] == media.public_id
        files = {r["public_id"]: r for r in sections["media_files"].rows()}
        assert files[media.public_id]["purpose"] == "comment"


def test_processing_refuses_a_note_over_two_minutes(school_a, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    source = tmp_path / "long.m4a"
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=16000:duration=121",
            "-c:a", "aac", "-b:a", "16k", str(source),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    with tenant_context(school_a.tenant):
        media = MediaFileFactory(
            owner=school_a.teacher, purpose=MediaFile.Purpose.COMMENT,
            state=MediaFile.State.UPLOADED, original_name="long.m4a",
        )  # fmt: skip
        storage.upload(path=source, key=media.source_key, content_type="audio/mp4")
        media_services.media_process(media_id=media.pk)
        media.refresh_from_db()
        assert media.state == MediaFile.State.FAILED
        assert "the limit is 2 min." in media.error_message, media.error_message


def _comment_list_queries(school, reply) -> int:
    client = client_for(school.student, school.host)
    url = f"/api/v1/replies/{reply.public_id}/comments/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json())


def test_the_comment_list_runs_a_constant_number_of_queries_with_recordings(school_a):
    def seed(reply, n):
        for i in range(n):
            thread = CommentFactory(
                reply=reply, author=school_a.teacher, at_ms=i * 100,
                media=_note(school_a.teacher, has_video=i % 2 == 0),
            )  # fmt: skip
            CommentFactory(
                reply=reply, author=school_a.student, parent=thread,
                media=_note(school_a.teacher) if i % 3 == 0 else None,
            )  # fmt: skip

    with tenant_context(school_a.tenant):
        few, many = _reply(school_a), _reply(school_a)
        seed(few, 3)
        seed(many, 55)
    few_queries, few_threads = _comment_list_queries(school_a, few)
    many_queries, many_threads = _comment_list_queries(school_a, many)
    assert (few_threads, many_threads) == (3, 55)
    assert few_queries == many_queries


def test_a_tenant_export_holds_the_notes_files_and_plays_them_on_the_page(
    school_a,
    in_tenant,
    queued,  # noqa: F811 - the fixture
):
    with in_tenant(school_a.tenant):
        content = make_content(school_a)
        files: dict[str, bytes] = {}
        note = _recording(school_a.teacher, MediaFile.Purpose.COMMENT, files)
        comment = CommentFactory(
            reply=content.replies[0], author=school_a.teacher, body="", media=note
        )
    _ask(client_for(school_a.owner, school_a.host), "tenant")
    [export_id] = queued
    export = _build(school_a, in_tenant, export_id)
    assert export.state == Export.State.READY
    with in_tenant(school_a.tenant):
        archive = archive_of(export)
    rows = {r["public_id"]: r for r in json.loads(archive.read("data/comments.json"))}
    assert rows[str(comment.public_id)]["media_public_id"] == str(note.public_id)
    assert archive.read(f"media/{note.public_id}/720p.mp4") == files[note.renditions["720p"]]
    page = archive.read(f"exercises/{content.exercise.public_id}.html").decode()
    assert f'src="../media/{note.public_id}/720p.mp4"' in page


def test_expired_replies_take_the_notes_on_them(school_a, monkeypatch):
    from datetime import date, datetime, timedelta

    from django.utils import timezone

    from learning.models import Classroom
    from learning.replies import retention

    tenant = school_a.tenant
    tenant.reply_retention_days = 30
    tenant.save(update_fields=["reply_retention_days"])
    ended = date(2026, 6, 1)
    with tenant_context(tenant):
        reply = _reply(school_a)
        reply.exercise.assigned_classes.set([Classroom.objects.create(name="Notes", ends_on=ended)])
        note = _note(school_a.teacher)
        CommentFactory(reply=reply, author=school_a.teacher, media=note)
        moment = timezone.make_aware(
            datetime.combine(ended + timedelta(days=31), datetime.min.time())
        )
        monkeypatch.setattr(timezone, "now", lambda: moment)
        result = retention.replies_expire()
        assert result.recordings == 2  # the reply's and the note's
        assert not MediaFile.objects.filter(pk=note.pk).exists()


def test_the_compare_page_offers_the_recorder_to_teachers_only(school_a):
    with tenant_context(school_a.tenant):
        reply = _reply(school_a)
    teacher_page = client_for(school_a.teacher, school_a.host).get(f"/replies/{reply.public_id}/")
    assert teacher_page.status_code == 200
    html = teacher_page.content.decode()
    assert "data-note-recorder" in html and 'data-purpose="comment"' in html
    assert 'data-max-seconds="120"' in html
    student_page = client_for(school_a.student, school_a.host).get(f"/replies/{reply.public_id}/")
    assert student_page.status_code == 200
    assert "data-note-recorder" not in student_page.content.decode()
