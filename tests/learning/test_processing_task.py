"""The processing task on what real users send, run as a worker runs it: inside the school's
schema, reading the upload from storage and writing the outputs back.

Files that are not usable media end `failed` with a sentence a person understands, quickly,
and without an exception escaping the task (the worker carries on).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from learning import storage
from learning.media import tasks
from learning.media.pipeline import probe
from learning.models import MediaFile
from tests.support.factories import MediaFileFactory
from tests.support.media_samples import sample, stream_digest


def _uploaded(school, name: str) -> MediaFile:
    """A media file in state `uploaded` whose source in storage is the sample `name`."""
    media = MediaFileFactory(
        owner=school.student, state=MediaFile.State.UPLOADED, original_name=name,
        has_audio=False, has_video=False, duration_s=None,
    )
    storage.upload(path=sample(name), key=media.source_key, content_type="video/mp4")
    return media


def _probe_output(key: str, *, source_name: str | None = None):
    """Probe a stored output; with `source_name`, also whether its video is that sample's
    own coded stream (copied rather than re-encoded)."""
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / Path(key).name
        storage.download(key=key, path=local)
        copied = source_name and stream_digest(local, "video") == stream_digest(
            sample(source_name), "video"
        )
        return probe(local), copied


@pytest.mark.parametrize(
    ("name", "display_size", "copied"),
    [
        ("h264_aac.mp4", (960, 540), True),  # browser-ready: its streams are copied
        ("hevc_rotated.mov", (540, 960), False),  # a phone's portrait clip stays portrait
        ("vp9_opus.webm", (640, 360), False),
        ("h264_1080p.mp4", (1280, 720), False),  # scaled down to 720p
    ],
)
def test_videos_become_a_playable_h264_rendition(
    school_a, in_tenant, name, display_size, copied
):
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, name)

        assert tasks.process_media.apply(args=[media.pk]).get() == "ready"

        media.refresh_from_db()
        assert set(media.renditions) == {"720p"}
        output, was_copied = _probe_output(media.renditions["720p"], source_name=name)
        assert (output.container, output.video_codec, output.audio_codec) == (
            "mp4", "h264", "aac"
        )
        assert (output.display_width, output.display_height) == display_size
        assert output.rotation == 0
        assert was_copied == copied
        # The media's size is the source's as a viewer sees it (the rendition may be smaller)
        source_size = {"h264_1080p.mp4": (1920, 1080)}.get(name, display_size)
        assert media.poster_key.endswith("/poster.jpg")
        assert storage.object_size(media.poster_key) > 0
        assert (media.width, media.height) == source_size
        assert media.has_video and media.has_audio


def test_audio_stays_audio(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, "aac.m4a")

        assert tasks.process_media.apply(args=[media.pk]).get() == "ready"

        media.refresh_from_db()
        assert list(media.renditions) == ["audio"]
        assert media.renditions["audio"].endswith("/audio.m4a")
        output, _ = _probe_output(media.renditions["audio"])
        assert (output.has_video, output.audio_codec) == (False, "aac")
        assert media.poster_key == ""
        assert (media.has_video, media.has_audio) == (False, True)
        assert max(media.waveform) > 0.1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.mp4", "The file is empty."),
        ("truncated.mp4", "This recording is incomplete or damaged"),
        ("notes.mp4", "This file is not a video or audio recording we can read."),
    ],
)
def test_unusable_files_fail_fast_with_a_readable_message(school_a, in_tenant, name, message):
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, name)
        started = time.monotonic()

        assert tasks.process_media.apply(args=[media.pk]).get() == "failed"

        assert time.monotonic() - started < 10
        media.refresh_from_db()
        assert media.state == "failed"
        assert media.error_message.startswith(message)
        assert media.renditions == {}
        prefix = storage.media_prefix(media.public_id)
        assert [o.key.removeprefix(prefix) for o in storage.list_objects(prefix=prefix)] == [
            "source"
        ]


def test_duration_is_checked_again_after_probing(school_a, in_tenant, settings):
    settings.PRACTIKA_MAX_MEDIA_SECONDS = 1
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, "h264_aac.mp4")

        tasks.process_media.apply(args=[media.pk]).get()

        media.refresh_from_db()
        assert media.state == "failed"
        assert media.error_message == "This recording is 2 s long; the limit is 1 s."


def test_a_missing_source_fails_instead_of_retrying(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = MediaFileFactory(owner=school_a.student, state=MediaFile.State.UPLOADED)

        assert tasks.process_media.apply(args=[media.pk]).get() == "failed"

        media.refresh_from_db()
        assert media.error_message == "The uploaded file is missing. Please upload it again."


def test_a_file_that_keeps_killing_workers_is_given_up(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, "h264_aac.mp4")
        # Five deliveries started and never finished (each worker was killed mid-way)
        MediaFile.objects.filter(pk=media.pk).update(state="processing", processing_attempts=5)

        assert tasks.process_media.apply(args=[media.pk]).get() == "skipped"

        media.refresh_from_db()
        assert media.state == "failed"
        assert "could not process" in media.error_message


def test_media_not_yet_uploaded_or_deleted_is_left_alone(school_a, in_tenant):
    with in_tenant(school_a.tenant):
        waiting = MediaFileFactory(owner=school_a.student, state=MediaFile.State.AWAITING_UPLOAD)

        assert tasks.process_media.apply(args=[waiting.pk]).get() == "skipped"
        assert tasks.process_media.apply(args=[10**9]).get() == "skipped"

        waiting.refresh_from_db()
        assert waiting.state == "awaiting_upload"


def test_a_crash_in_processing_marks_the_media_failed_without_raising(
    school_a, in_tenant, monkeypatch
):
    # The same failure handling as the alignment task (learning.retries): recorded, logged,
    # neither retried nor raised.
    calls = []

    def explode(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("bug")

    monkeypatch.setattr("learning.media.pipeline.transcode", explode)
    with in_tenant(school_a.tenant):
        media = _uploaded(school_a, "h264_aac.mp4")

        assert tasks.process_media.apply(args=[media.pk]).get() == "failed"

        media.refresh_from_db()
        assert media.state == "failed"
        assert media.error_message == tasks.MESSAGE_BUG
        assert len(calls) == 1
