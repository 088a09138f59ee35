"""The alignment task as a worker runs it: inside a school's schema, reading both recordings'
sound from storage and storing one Alignment per reply.

Rerunning keeps the result (idempotent); a school never sees another's alignments; and
whatever goes wrong ends as `not_aligned` or `failed` with a sentence for the compare page,
never as an exception escaping to the worker or the page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from celery.exceptions import Retry

from learning import storage
from learning.alignment import engine
from learning.alignment import selectors as alignment_selectors
from learning.alignment import services as alignment_services
from learning.alignment import tasks as tasks_alignment
from learning.models import Alignment, MediaFile
from tests.support.alignment_pairs import pair, write_wav
from tests.support.factories import ExerciseFactory, ReplyFactory


def _store_audio(media: MediaFile, samples) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = write_wav(samples, Path(scratch) / "audio.wav")
        key = f"{media.source_key.rsplit('/', 1)[0]}/audio.m4a"
        storage.upload(path=path, key=key, content_type="audio/wav")
    media.renditions = {"audio": key}
    media.save(update_fields=["renditions"])


def _reply(school, kind: str = "varied", *, store: bool = True):
    p = pair(kind)
    exercise = ExerciseFactory(created_by=school.teacher)
    reply = ReplyFactory(exercise=exercise, student=school.student)
    if store:
        _store_audio(exercise.demo, p.demo)
        _store_audio(reply.media, p.reply)
    return reply


def test_the_task_stores_a_ready_alignment_once_and_a_rerun_keeps_it(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a)

        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "ready"
        first = Alignment.objects.get(reply=reply)
        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "ready"

        assert Alignment.objects.filter(reply=reply).count() == 1
        again = Alignment.objects.get(reply=reply)
        assert again.runs == first.runs == 1  # the current result was kept, not recomputed
        assert again.time_map == first.time_map
        assert again.bands == first.bands
        assert again.status == Alignment.Status.READY
        assert again.algorithm == engine.ALGORITHM
        assert again.demo_media_public_id == reply.exercise.demo.public_id
        assert len(again.time_map["demo_ms"]) == len(again.time_map["reply_ms"]) > 100
        assert again.confidence > 0.5
        assert any(band["kind"] == "extra" for band in again.bands)  # the pause


def test_a_forced_rerun_recomputes_into_the_same_row(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, "transposed")
        tasks_alignment.align_reply.apply(args=[reply.pk]).get()

        tasks_alignment.align_reply.apply(args=[reply.pk], kwargs={"force": True}).get()

        alignment = Alignment.objects.get(reply=reply)
        assert alignment.runs == 2
        assert alignment.transposition_semitones == 2


def test_alignments_live_in_the_schools_schema(school_a, school_b, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, "matching")
        tasks_alignment.align_reply.apply(args=[reply.pk]).get()
        assert Alignment.objects.filter(reply=reply).exists()
    with in_tenant(school_b.tenant):
        assert not Alignment.objects.exists()
        # The same id in another school is another (absent) reply: nothing happens there.
        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "skipped"
        assert not Alignment.objects.exists()


def test_unrelated_audio_is_not_aligned_with_a_reason(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, "unrelated")

        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "not_aligned"

        alignment = Alignment.objects.get(reply=reply)
        assert alignment.time_map == {} and alignment.bands == []
        assert "does not seem to follow" in alignment.reason


def test_missing_audio_files_leave_a_readable_reason(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, store=False)

        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "not_aligned"

        alignment = Alignment.objects.get(reply=reply)
        assert alignment.reason == alignment_selectors.FILE_MISSING


def test_a_recording_without_sound_is_not_aligned(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, store=False)
        reply.media.has_audio = False
        reply.media.save(update_fields=["has_audio"])

        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "not_aligned"

        assert Alignment.objects.get(reply=reply).reason == alignment_selectors.NO_REPLY_AUDIO


def test_a_crash_in_the_analysis_marks_the_alignment_failed_without_raising(
    school_a, in_tenant, monkeypatch
):
    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(engine, "analyse_files", explode)
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, "matching")

        assert tasks_alignment.align_reply.apply(args=[reply.pk]).get() == "failed"

        alignment = Alignment.objects.get(reply=reply)
        assert alignment.status == Alignment.Status.FAILED
        assert alignment.reason == alignment_services.CRASHED


def test_storage_outages_are_retried(school_a, in_tenant, monkeypatch):
    def unavailable(**kwargs):
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(storage, "download", unavailable)
    with in_tenant(school_a.tenant):
        reply = _reply(school_a, "matching", store=False)

        with pytest.raises(Retry):
            tasks_alignment.align_reply.apply(args=[reply.pk], throw=True).get()

        assert Alignment.objects.get(reply=reply).status == Alignment.Status.PENDING
