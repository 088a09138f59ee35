"""An attempt counts only when its recording is ready (learning/replies/services.py).

Through the API the browser uses and the worker's processing task: an empty upload is refused
before it can be sent; a corrupt one, sent before processing found it out, becomes a draft
that uses no attempt of the free plan, never reaches the teacher's inbox, and is replaced by
the student's next recording or deleted by the student.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from billing import plans
from learning.media import tasks
from learning.models import ActivityEvent, MediaFile, Reply
from tests.conftest import client_for
from tests.support.factories import ExerciseFactory, ReplyFactory
from tests.support.media_samples import sample


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _upload(client, data: bytes) -> dict:
    """Start, PUT the one part and complete, as learning.js does; the completion's answer."""
    ticket = client.post(
        "/api/v1/uploads/",
        {
            "purpose": "reply",
            "filename": "take.mp4",
            "size": len(data),
            "content_type": "video/mp4",
        },
        content_type="application/json",
    ).json()
    part = ticket["parts"][0]
    put = client.put(_path(part["url"]), data, content_type="application/octet-stream")
    assert put.status_code == 200, put.content
    done = client.post(
        _path(ticket["complete_url"]),
        {"parts": [{"number": 1, "etag": put["ETag"]}]},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    return done.json()


def _send(client, exercise, media_id: str):
    return client.post(
        "/api/v1/replies/",
        {"exercise": str(exercise.public_id), "media": media_id},
        content_type="application/json",
    )


def _process(school, media_id: str) -> str:
    with tenant_context(school.tenant):
        media = MediaFile.objects.get(public_id=media_id)
        return tasks.process_media.apply(args=[media.pk]).get()


def _inbox_ids(school) -> set[str]:
    teacher = client_for(school.teacher, school.host)
    api = teacher.get("/api/v1/inbox/").json()["results"]
    page = teacher.get("/teach/inbox/").content.decode()
    return {r["public_id"] for r in api}, page


@pytest.fixture
def no_queue(monkeypatch):
    """Processing is run by the test itself, as the worker would run it."""
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: None)


@pytest.fixture
def exercise_with_four_attempts(school_a):
    """An exercise at which the free student has one attempt left."""
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher, title="Minuet in G")
        for attempt in range(1, plans.FREE_ATTEMPTS_PER_EXERCISE):
            ReplyFactory(
                exercise=exercise,
                student=school_a.student,
                attempt=attempt,
                status=Reply.Status.REVIEWED,
            )
    return exercise


def test_an_empty_upload_cannot_be_sent_and_uses_no_attempt(
    school_a, no_queue, exercise_with_four_attempts
):
    exercise = exercise_with_four_attempts
    student = client_for(school_a.student, school_a.host)

    # Given a zero-byte recording
    media = _upload(student, b"")
    assert media["state"] == "failed"

    # When the student sends it, through the API and the exercise page
    api = _send(student, exercise, media["id"])
    page = student.post(f"/exercises/{exercise.public_id}/", {"media": media["id"]})

    # Then both refuse it and say what went wrong, and no attempt is left behind
    assert api.status_code == 400, api.content
    assert api.json()["code"] == "media_failed"
    assert "empty (0 bytes)" in api.json()["message"]
    assert "does not count as an attempt" in api.json()["message"]
    assert page.status_code == 200
    assert "empty (0 bytes)" in page.content.decode()
    with tenant_context(school_a.tenant):
        assert (
            Reply.objects.filter(exercise=exercise).count() == plans.FREE_ATTEMPTS_PER_EXERCISE - 1
        )

    # And the last attempt of the plan is still there for a real take
    good = _upload(student, sample("h264_aac.mp4").read_bytes())
    assert _process(school_a, good["id"]) == "ready"
    sent = _send(student, exercise, good["id"])
    assert sent.status_code == 201, sent.content
    assert sent.json()["attempt"] == plans.FREE_ATTEMPTS_PER_EXERCISE


def test_a_corrupt_upload_is_a_draft_that_uses_no_attempt_and_never_reaches_the_inbox(
    school_a, no_queue, exercise_with_four_attempts
):
    exercise = exercise_with_four_attempts
    student = client_for(school_a.student, school_a.host)

    # Given a file that is not media, sent before processing finds that out (the last
    # attempt the free plan gives)
    corrupt = _upload(student, b"\x00\x01not a video at all" * 4096)
    assert corrupt["state"] == "uploaded"
    sent = _send(student, exercise, corrupt["id"])
    assert sent.status_code == 201, sent.content
    draft_id = sent.json()["public_id"]

    # While it is processing, the teacher's inbox does not list it (nothing to review yet)
    ids, page = _inbox_ids(school_a)
    assert draft_id not in ids

    # When processing finds it unreadable
    assert _process(school_a, corrupt["id"]) == "failed"

    # Then the inbox still does not list it, and the teacher was never told of it
    ids, page = _inbox_ids(school_a)
    assert draft_id not in ids
    assert f"/replies/{draft_id}/" not in page
    # Nor any other teacher's list or page: a draft is the student's own
    teacher = client_for(school_a.teacher, school_a.host)
    listed = teacher.get(f"/api/v1/replies/?exercise={exercise.public_id}").json()["results"]
    assert draft_id not in {r["public_id"] for r in listed}
    assert teacher.get(f"/replies/{draft_id}/").status_code == 404
    assert draft_id not in teacher.get(f"/teach/exercises/{exercise.public_id}/").content.decode()
    with tenant_context(school_a.tenant):
        announced = ActivityEvent.objects.filter(kind="reply_submitted", data__reply=draft_id)
        assert not announced.exists()

    # And the student is told what went wrong, on their replies and on the exercise
    mine = student.get("/replies/").content.decode()
    assert "This recording could not be used" in mine
    assert "does not count as an attempt" in mine
    exercise_page = student.get(f"/exercises/{exercise.public_id}/").content.decode()
    assert "Draft · not sent" in exercise_page

    # And the plan's last attempt is still unused: a good take is accepted, replaces the
    # draft (same attempt number, one row), reaches the inbox once ready and is announced
    good = _upload(student, sample("h264_aac.mp4").read_bytes())
    resent = _send(student, exercise, good["id"])
    assert resent.status_code == 201, resent.content
    assert resent.json()["public_id"] == draft_id
    assert resent.json()["attempt"] == plans.FREE_ATTEMPTS_PER_EXERCISE
    with tenant_context(school_a.tenant):
        assert Reply.objects.filter(exercise=exercise).count() == plans.FREE_ATTEMPTS_PER_EXERCISE
        assert not MediaFile.objects.filter(public_id=corrupt["id"]).exists()
    assert draft_id not in _inbox_ids(school_a)[0]
    assert _process(school_a, good["id"]) == "ready"
    assert draft_id in _inbox_ids(school_a)[0]
    with tenant_context(school_a.tenant):
        assert (
            ActivityEvent.objects.filter(kind="reply_submitted", data__reply=draft_id).count() == 1
        )

    # And with every attempt used by ready recordings, the next is refused (the control)
    another = _upload(student, sample("h264_aac.mp4").read_bytes())
    refused = _send(student, exercise, another["id"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "attempts_limit"


def test_the_student_deletes_a_draft_but_not_a_sent_attempt(school_a, school_b, no_queue):
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        sent_attempt = ReplyFactory(exercise=exercise, student=school_a.student, attempt=1)
    student = client_for(school_a.student, school_a.host)
    corrupt = _upload(student, b"garbage" * 1000)
    draft_id = _send(student, exercise, corrupt["id"]).json()["public_id"]
    assert _process(school_a, corrupt["id"]) == "failed"

    # Neither the teacher, nor the other student, nor a member of school B can delete it
    for outsider, host in [
        (school_a.teacher, school_a.host),
        (school_a.other_student, school_a.host),
        (school_b.student, school_b.host),
    ]:
        response = client_for(outsider, host).delete(f"/api/v1/replies/{draft_id}/")
        assert response.status_code in (403, 404), (outsider, response.content)

    # A sent attempt cannot be deleted
    refused = student.delete(f"/api/v1/replies/{sent_attempt.public_id}/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "reply_not_draft"

    # The draft can, from its page's button; its recording goes with it
    response = student.post(f"/replies/{draft_id}/delete/")
    assert response.status_code == 302
    with tenant_context(school_a.tenant):
        assert not Reply.objects.filter(public_id=draft_id).exists()
        assert not MediaFile.objects.filter(public_id=corrupt["id"]).exists()
        assert Reply.objects.filter(pk=sent_attempt.pk).exists()
