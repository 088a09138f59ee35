"""The alignment API on a tenant's host: who sees what, hiding the feedback from the
student, and the analysis queued exactly once by the write that makes it possible (views
only read)."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from learning.models import Alignment
from tests.conftest import client_for
from tests.support.factories import ReplyFactory

BANDS = [{
    "kind": "rushed", "start_ms": 8000, "end_ms": 12000, "reply_start_ms": 9000,
    "reply_end_ms": 12100, "message": "About 30 % faster than the demonstration here.",
}]
SUMMARY = {
    "tempo_ratio": 1.0, "timing_flagged_share": 0.2, "pitch_checked": True,
    "pitch_flagged_share": 0.0, "median_abs_cents": 4.0,
    "counts": {"rushed": 1, "dragged": 0, "missing": 0, "extra": 0, "flat": 0, "sharp": 0},
}


def _ready(school, *, attempt=1, student=None, exercise=None, **fields) -> Alignment:
    reply = ReplyFactory(
        student=student or school.student, attempt=attempt,
        **({"exercise": exercise} if exercise else {"exercise__created_by": school.teacher}),
    )
    return Alignment.objects.create(
        reply=reply, status=Alignment.Status.READY, confidence=0.8,
        time_map={"demo_ms": [0, 100, 200], "reply_ms": [1500, 1600, 1710]},
        bands=BANDS, summary=SUMMARY, computed_at=timezone.now(),
        demo_media_public_id=reply.exercise.demo.public_id,
        reply_media_public_id=reply.media.public_id, **fields,
    )


def _url(alignment_or_reply) -> str:
    reply = getattr(alignment_or_reply, "reply", alignment_or_reply)
    return f"/api/v1/replies/{reply.public_id}/alignment/"


def test_the_student_and_the_teacher_read_the_map_bands_and_the_attempts_trend(school_a):
    with tenant_context(school_a.tenant):
        first = _ready(school_a)
        second = _ready(school_a, attempt=2, exercise=first.reply.exercise)

    for user in (school_a.student, school_a.teacher):
        body = client_for(user, school_a.host).get(_url(second)).json()

        assert body["status"] == "ready"
        assert body["time_map"] == {"demo_ms": [0, 100, 200], "reply_ms": [1500, 1600, 1710]}
        assert body["bands"] == BANDS
        assert body["summary"]["counts"]["rushed"] == 1
        assert [a["attempt"] for a in body["attempts"]] == [1, 2]
        assert body["feedback_hidden"] is False


def test_a_ready_alignment_with_an_empty_or_partial_summary_still_answers(school_a):
    # Alignments stored before the summary had all its fields (or with none) are read as
    # they are: no summary, or the fields it has, never a server error.
    with tenant_context(school_a.tenant):
        first = _ready(school_a)
        Alignment.objects.filter(pk=first.pk).update(summary={"tempo_ratio": 1.02})
        second = _ready(school_a, attempt=2, exercise=first.reply.exercise)
        Alignment.objects.filter(pk=second.pk).update(summary={})

    for user in (school_a.student, school_a.teacher):
        response = client_for(user, school_a.host).get(_url(second))

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready" and body["summary"] is None
        assert [a["summary"] for a in body["attempts"]] == [
            {
                "tempo_ratio": 1.02, "timing_flagged_share": None, "pitch_checked": None,
                "pitch_flagged_share": None, "median_abs_cents": None, "counts": None,
            },
            None,
        ]


def test_the_teacher_hides_the_feedback_but_the_student_keeps_auto_sync(school_a):
    with tenant_context(school_a.tenant):
        alignment = _ready(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)

    assert student.patch(
        _url(alignment), {"visible_to_student": False}, content_type="application/json"
    ).status_code == 403
    hidden = teacher.patch(
        _url(alignment), {"visible_to_student": False}, content_type="application/json"
    )

    assert hidden.status_code == 200 and hidden.json()["visible_to_student"] is False
    body = student.get(_url(alignment)).json()
    assert body["feedback_hidden"] is True
    assert body["bands"] == [] and body["summary"] is None and body["attempts"] == []
    assert body["time_map"]["demo_ms"] == [0, 100, 200]
    assert teacher.get(_url(alignment)).json()["bands"] == BANDS


def test_other_students_and_other_schools_cannot_read_an_alignment(school_a, school_b):
    with tenant_context(school_a.tenant):
        alignment = _ready(school_a)

    assert client_for(school_a.other_student, school_a.host).get(_url(alignment)).status_code == 404
    assert client_for(school_b.teacher, school_a.host).get(_url(alignment)).status_code == 403
    assert client_for(school_b.teacher, school_b.host).get(_url(alignment)).status_code == 404
    assert client_for(None, school_a.host).get(_url(alignment)).status_code in (401, 403)


def test_a_sent_reply_queues_the_analysis_once_and_views_only_read(
    school_a, monkeypatch, django_capture_on_commit_callbacks
):
    from learning.alignment import services as alignment_services
    from learning.alignment import tasks as tasks_alignment

    queued = []
    monkeypatch.setattr(tasks_alignment.align_reply, "delay", lambda *a, **k: queued.append(a))
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(student=school_a.student, exercise__created_by=school_a.teacher)
    student = client_for(school_a.student, school_a.host)

    # A view reads: it neither stores nor queues anything.
    with django_capture_on_commit_callbacks(execute=True):
        before = student.get(_url(reply)).json()
    assert before["status"] == "pending" and queued == []
    with tenant_context(school_a.tenant):
        assert not Alignment.objects.filter(reply=reply).exists()

    # What sending the reply (reply_create) and a recording becoming ready both call.
    with tenant_context(school_a.tenant), django_capture_on_commit_callbacks(execute=True):
        alignment_services.alignment_request(reply=reply)
        alignment_services.alignment_request(reply=reply)
    with django_capture_on_commit_callbacks(execute=True):
        first = student.get(_url(reply)).json()
    with django_capture_on_commit_callbacks(execute=True):
        second = student.get(_url(reply)).json()

    assert first["status"] == second["status"] == "pending"
    assert first["time_map"] is None and first["bands"] == []
    assert queued == [(reply.pk,)]


def test_a_reply_without_sound_says_so_without_queueing(
    school_a, monkeypatch, django_capture_on_commit_callbacks
):
    from learning.alignment import tasks as tasks_alignment
    from learning.models import MediaFile
    from tests.support.factories import ExerciseFactory, MediaFileFactory

    queued = []
    monkeypatch.setattr(tasks_alignment.align_reply, "delay", lambda *a, **k: queued.append(a))
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        silent = MediaFileFactory(owner=school_a.student, has_audio=False)
    student = client_for(school_a.student, school_a.host)

    # The student sends the silent take through the API; what would be queued runs on commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = student.post(
            "/api/v1/replies/",
            {"exercise": str(exercise.public_id), "media": str(silent.public_id)},
            content_type="application/json",
        )
    assert sent.status_code == 201, sent.content
    assert callbacks  # the reply's own after-commit work ran (the activity outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = student.get(f"/api/v1/replies/{sent.json()['public_id']}/alignment/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "not_aligned"
    assert body["reason"] == "The reply has no sound, so it cannot be aligned automatically."
    assert queued == []
    with tenant_context(school_a.tenant):
        stored = Alignment.objects.get(reply__media=silent)
        assert stored.status == Alignment.Status.NOT_ALIGNED
        assert MediaFile.objects.get(pk=silent.pk).has_audio is False


def test_teachers_can_ask_for_a_fresh_analysis(
    school_a, monkeypatch, django_capture_on_commit_callbacks
):
    from learning.alignment import tasks as tasks_alignment

    queued = []
    monkeypatch.setattr(tasks_alignment.align_reply, "delay", lambda *a, **k: queued.append(k))
    with tenant_context(school_a.tenant):
        alignment = _ready(school_a)

    assert client_for(school_a.student, school_a.host).post(_url(alignment)).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(school_a.teacher, school_a.host).post(_url(alignment))

    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert queued == [{"force": True}]


NOTE_BAND = {
    "kind": "wrong_note", "start_ms": 3400, "end_ms": 3900, "reply_start_ms": 4100,
    "reply_end_ms": 4600, "message": "A3 played as A#3.", "note": "A3", "played_note": "A#3",
}
NOTES = {"checked": True, "demo_notes": 40, "reply_notes": 41, "wrong": 1, "missed": 0,
         "extra": 0, "examples": [{"kind": "wrong_note", "at_ms": 3400,
                                   "message": "A3 played as A#3."}]}
ROLL = {"demo": [[3400, 3900, 57]], "reply": [[3420, 3880, 58]], "transposition": 0,
        "errors": [{"kind": "wrong_note", "at_ms": 3400, "end_ms": 3900, "reply_ms": 4100,
                    "reply_end_ms": 4600, "pitch": 57, "note": "A3", "played": 58,
                    "played_note": "A#3"}]}


def test_note_errors_and_the_piano_roll_are_feedback_the_teacher_may_hide(school_a):
    with tenant_context(school_a.tenant):
        alignment = _ready(school_a)
        Alignment.objects.filter(pk=alignment.pk).update(
            bands=[*BANDS, NOTE_BAND], summary={**SUMMARY, "notes": NOTES, "piano_roll": ROLL}
        )
        second = _ready(school_a, attempt=2, exercise=alignment.reply.exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)

    body = student.get(_url(alignment)).json()
    assert body["bands"][1] == NOTE_BAND
    assert body["summary"]["notes"] == NOTES
    assert "piano_roll" not in body["summary"]  # only at the top, not in every attempt
    assert body["piano_roll"] == ROLL
    attempts = teacher.get(_url(second)).json()["attempts"]
    assert attempts[0]["summary"]["notes"]["wrong"] == 1
    assert "piano_roll" not in attempts[0]["summary"] and "notes" not in attempts[1]["summary"]

    assert teacher.patch(
        _url(alignment), {"visible_to_student": False}, content_type="application/json"
    ).status_code == 200
    hidden = student.get(_url(alignment)).json()
    assert hidden["piano_roll"] is None and hidden["bands"] == [] and hidden["summary"] is None
    assert teacher.get(_url(alignment)).json()["piano_roll"] == ROLL
