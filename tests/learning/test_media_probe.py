"""probe(): what a file really holds, read from its content, and readable refusals."""

from __future__ import annotations

import shutil

import av
import pytest

from learning.media.pipeline import MediaInfo, MediaLimitExceeded, MediaRejected, probe, probing
from learning.media.pipeline.probing import format_bytes, format_duration
from tests.support.media_samples import DURATION_S, sample


def _close_to_sample_duration(info: MediaInfo) -> bool:
    return abs(info.duration_s - DURATION_S) < 0.1


def test_h264_mp4_from_a_camera():
    info = probe(sample("h264_aac.mp4"))

    assert info.container == "mp4"
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height, info.rotation) == (960, 540, 0)
    assert (info.display_width, info.display_height) == (960, 540)
    assert info.fps == 30
    assert (info.sample_rate, info.channels) == (48000, 1)
    assert info.size_bytes == sample("h264_aac.mp4").stat().st_size
    assert _close_to_sample_duration(info)


def test_what_decides_a_copy_is_read_from_the_streams():
    camera = probe(sample("h264_aac.mp4"))
    screen = probe(sample("h264_yuv444.mp4"))
    hdr = probe(sample("hevc_hlg.mov"))

    assert (camera.video_profile, camera.video_level, camera.pixel_format) == (
        "Constrained Baseline", 31, "yuv420p"
    )
    assert (camera.audio_profile, camera.interlaced) == ("LC", False)
    assert (screen.video_profile, screen.pixel_format) == ("High 4:4:4 Predictive", "yuv444p")
    assert hdr.pixel_format == "yuv420p10le"
    assert probe(sample("vp9_opus.webm")).video_level is None  # VP9 names no H.264 level
    assert probe(sample("tone.wav")).video_profile is None


def test_hevc_mov_with_a_phone_rotation_tag_is_portrait():
    info = probe(sample("hevc_rotated.mov"))

    assert info.container == "mov"
    assert info.video_codec == "hevc"
    assert (info.width, info.height) == (960, 540)  # stored landscape...
    assert info.rotation == 90  # ...turned clockwise by the player, as an iPhone tags it
    assert (info.display_width, info.display_height) == (540, 960)
    assert info.is_portrait
    assert info.channels == 2


def test_hdr_phone_video_is_recognised():
    assert probe(sample("hevc_hlg.mov")).hdr == "hlg"
    assert probe(sample("hevc_rotated.mov")).hdr is None


def test_browser_webm_recordings():
    vp9 = probe(sample("vp9_opus.webm"))
    vp8 = probe(sample("vp8_opus.webm"))
    av1 = probe(sample("av1_opus.webm"))

    assert (vp9.container, vp9.video_codec, vp9.audio_codec) == ("webm", "vp9", "opus")
    assert (vp8.video_codec, av1.video_codec) == ("vp8", "av1")
    assert all(_close_to_sample_duration(info) for info in (vp9, vp8, av1))


def test_duration_of_a_streamed_webm_comes_from_its_packets():
    # MediaRecorder writes WebM to a stream: the header carries no duration at all.
    with av.open(str(sample("vp8_streamed.webm"))) as container:
        assert container.duration is None

    info = probe(sample("vp8_streamed.webm"))

    assert _close_to_sample_duration(info)
    assert info.fps == 30


def test_mkv_and_a_video_without_sound():
    mkv = probe(sample("h264_flac.mkv"))
    silent = probe(sample("h264_silent.mp4"))

    assert (mkv.container, mkv.audio_codec, mkv.display_width) == ("mkv", "flac", 640)
    assert silent.has_video and not silent.has_audio
    assert silent.audio_codec is None and silent.audio_stream_index is None


@pytest.mark.parametrize(
    ("name", "container", "codec"),
    [("aac.m4a", "m4a", "aac"), ("tone.mp3", "mp3", "mp3"), ("tone.wav", "wav", "pcm_s16le")],
)
def test_audio_only_files(name, container, codec):
    info = probe(sample(name))

    assert (info.container, info.audio_codec) == (container, codec)
    assert info.has_audio and not info.has_video
    assert info.display_width is None and not info.is_portrait
    assert abs(info.duration_s - DURATION_S) < 0.1


def test_cover_art_in_an_mp3_is_not_a_video():
    with av.open(str(sample("cover.mp3"))) as container:
        assert len(container.streams.video) == 1  # the picture is there...

    info = probe(sample("cover.mp3"))

    assert info.has_audio and not info.has_video  # ...but it is not a video


def test_the_extension_is_not_trusted(tmp_path):
    disguised = tmp_path / "lesson.mp4"
    shutil.copy(sample("vp9_opus.webm"), disguised)

    assert probe(disguised).container == "webm"


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("empty.mp4", "empty", "The file is empty."),
        ("notes.mp4", "not_media", "This file is not a video or audio recording we can read."),
        ("photo.mp4", "not_media", "This file is not a video or audio recording we can read."),
        ("truncated.mp4", "damaged", "This recording is incomplete or damaged"),
        ("truncated_faststart.mp4", "damaged", "This recording is incomplete or damaged"),
        ("subtitles_only.mkv", "no_streams", "This file has neither video nor audio in it."),
    ],
)
def test_unusable_files_are_refused_with_a_readable_message(name, code, message):
    with pytest.raises(MediaRejected) as raised:
        probe(sample(name))

    assert raised.value.code == code
    assert raised.value.message.startswith(message)
    assert not raised.value.transient


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(MediaLimitExceeded) as raised:
        probe(sample("h264_aac.mp4"), max_bytes=1000)

    assert raised.value.code == "too_large"
    assert raised.value.message.endswith("the limit is 1 KB.")


def test_a_recording_over_the_duration_limit_is_refused():
    with pytest.raises(MediaLimitExceeded) as raised:
        probe(sample("tone.wav"), max_duration_s=1)

    assert raised.value.code == "too_long"
    assert raised.value.message == "This recording is 2 s long; the limit is 1 s."


def test_a_header_far_over_the_duration_limit_is_refused_without_reading_on(monkeypatch):
    def read_everything(*args, **kwargs):
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(probing, "_scan", read_everything)

    with pytest.raises(MediaLimitExceeded) as raised:
        probe(sample("h264_aac.mp4"), max_duration_s=0.9)

    assert raised.value.message == "This recording is 2 s long; the limit is 1 s."


def test_within_the_limits_passes():
    info = probe(sample("tone.wav"), max_duration_s=2.5, max_bytes=10_000_000)

    assert info.has_audio


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (999, "999 bytes"), (1000, "1 KB"), (1_500_000, "1.5 MB"),
     (2_000_000_000, "2 GB"), (5_000_000_000_000, "5000 GB")],
)
def test_sizes_read_like_people_say_them(size, text):
    assert format_bytes(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "0 s"), (45, "45 s"), (600, "10 min"), (725, "12 min 5 s"), (3720, "1 h 2 min")],
)
def test_durations_read_like_people_say_them(seconds, text):
    assert format_duration(seconds) == text
