"""transcode(): every accepted input becomes a browser-playable rendition, a poster and peaks;
an upload that already is one has its streams copied, everything else is re-encoded."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image

from learning.media.pipeline import (
    MediaInfo,
    MediaRejected,
    ProcessingTimeout,
    TranscodeFailed,
    TranscodeResult,
    probe,
    reencode_reasons,
    scaled_size,
    transcode,
)
from learning.media.pipeline.runner import ffmpeg_exe
from learning.media.pipeline.transcoding import REENCODE_DAMAGED
from learning.media.pipeline.waveform import peak_count
from tests.support.media_samples import (
    GOOD_AUDIO,
    GOOD_VIDEO,
    sample,
    stream_digest,
    top_level_boxes,
)

BROWSER_READY = ("h264_aac.mp4", "h264_silent.mp4", "h264_aac.mkv")


@pytest.fixture(scope="module")
def transcoded(tmp_path_factory) -> Callable[[str], tuple[MediaInfo, TranscodeResult]]:
    """Transcode each sample once per module; tests that only read the outputs share them."""
    results: dict[str, tuple[MediaInfo, TranscodeResult]] = {}

    def get(name: str) -> tuple[MediaInfo, TranscodeResult]:
        if name not in results:
            source = probe(sample(name))
            out_dir = tmp_path_factory.mktemp(name.replace(".", "_"))
            results[name] = source, transcode(sample(name), out_dir, probe_result=source)
        return results[name]

    return get


def _has_faststart(path) -> bool:
    boxes = dict(top_level_boxes(path))
    return boxes["moov"] < boxes["mdat"]


def test_the_camera_sample_starts_without_faststart():
    # So the renditions' faststart below is the pipeline's doing, not the source's.
    assert not _has_faststart(sample("h264_aac.mp4"))
    assert _has_faststart(sample("h264_faststart.mp4"))


@pytest.mark.parametrize("name", GOOD_VIDEO)
def test_video_becomes_one_h264_aac_mp4_of_at_most_720p(name, transcoded):
    source, result = transcoded(name)

    assert [r.name for r in result.renditions] == ["720p"]  # no 360p any more
    for rendition in result.renditions:
        output = probe(rendition.path)
        short_side = min(output.display_width, output.display_height)
        assert output.container == "mp4"
        assert output.video_codec == "h264"
        assert output.audio_codec == ("aac" if source.has_audio else None)
        assert output.rotation == 0  # upright pixels, no tag left for a player to misapply
        assert short_side <= 720
        assert short_side <= min(source.display_width, source.display_height)  # no upscale
        assert output.width % 2 == 0 and output.height % 2 == 0
        assert (output.width, output.height) == (rendition.width, rendition.height)
        source_aspect = source.display_width / source.display_height
        assert abs(output.width - output.height * source_aspect) <= 1  # aspect kept
        assert output.is_portrait == source.is_portrait
        assert abs(output.duration_s - source.duration_s) <= 0.2
        assert _has_faststart(rendition.path)
        # What we serve is what we would copy: the same rules, met by our own encodes.
        assert reencode_reasons(output) == ()


def test_portrait_phone_video_stays_portrait_at_both_sizes(transcoded):
    _, result = transcoded("hevc_rotated.mov")

    sizes = [(probe(r.path).width, probe(r.path).height) for r in result.renditions]
    assert sizes == [(540, 960)]
    with Image.open(result.poster) as poster:
        assert poster.size == (540, 960)


def test_hdr_video_is_tone_mapped_to_8_bit_sdr(transcoded):
    _, result = transcoded("hevc_hlg.mov")

    for rendition in result.renditions:
        with av.open(str(rendition.path)) as container:
            frame = next(container.decode(video=0))
        assert frame.format.name == "yuv420p"
        assert frame.color_trc == 1  # BT.709, no longer HLG (18)
        assert probe(rendition.path).hdr is None
    with Image.open(result.poster) as poster:
        red, green, blue = poster.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert max(red, green, blue) > 40  # a picture, not a black frame


def test_large_landscape_source_is_scaled_down(transcoded):
    _, result = transcoded("h264_1080p.mp4")

    sizes = [(probe(r.path).width, probe(r.path).height) for r in result.renditions]
    assert sizes == [(1280, 720)]


@pytest.mark.parametrize("name", GOOD_VIDEO)
def test_video_gets_a_jpeg_poster_and_waveform(name, transcoded):
    source, result = transcoded(name)

    assert result.poster == result.renditions[0].path.with_name("poster.jpg")
    assert result.poster.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(result.poster) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (result.renditions[0].width, result.renditions[0].height)
    peaks = result.waveform.peaks
    assert len(peaks) == peak_count(source.duration_s, result.waveform.peaks_per_second)
    assert all(0.0 <= peak <= 1.0 for peak in peaks)
    if source.has_audio:
        assert 0.4 < max(peaks) < 0.6  # the samples' tone has amplitude 0.5
    else:
        assert set(peaks) == {0.0}


@pytest.mark.parametrize("name", GOOD_AUDIO)
def test_audio_stays_audio_only(name, transcoded):
    source, result = transcoded(name)

    (rendition,) = result.renditions
    output = probe(rendition.path)
    assert rendition.path.name == "audio.m4a"
    assert (output.has_video, output.audio_codec, output.container) == (False, "aac", "mp4")
    assert abs(output.duration_s - source.duration_s) <= 0.2
    assert _has_faststart(rendition.path)
    assert result.poster is None
    assert len(result.waveform.peaks) == peak_count(source.duration_s, 20)
    assert 0.4 < max(result.waveform.peaks) < 0.6


def test_running_twice_gives_the_same_files(tmp_path):
    source = probe(sample("vp9_opus.webm"))
    first = transcode(sample("vp9_opus.webm"), tmp_path, probe_result=source)
    first_inodes = {path.name: path.stat().st_ino for path in first.paths}

    second = transcode(sample("vp9_opus.webm"), tmp_path, probe_result=source)

    assert first.paths == second.paths
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["720p.mp4", "poster.jpg", "waveform.json"]
    )
    # Replaced by rename, not rewritten in place: a reader never saw a half file.
    assert all(first_inodes[p.name] != p.stat().st_ino for p in second.paths)
    assert second.waveform == first.waveform


def test_a_worker_killed_mid_transcode_leaves_no_finished_looking_file(tmp_path):
    out_dir = tmp_path / "out"
    script = (
        "import sys; from learning.media.pipeline import probe, transcode; "
        "transcode(sys.argv[1], sys.argv[2], probe_result=probe(sys.argv[1]))"
    )
    worker = subprocess.Popen(
        # A re-encode (HEVC): a copy would be over before the watcher looks.
        [sys.executable, "-c", script, str(sample("hevc_rotated.mov")), str(out_dir)],
        start_new_session=True,  # its own process group: ffmpeg dies with it, as in a pod
        cwd=Path(__file__).resolve().parents[2],  # the repository root, to import `learning`
    )
    deadline = time.monotonic() + 30
    while not list(out_dir.glob(".*.part")) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()

    assert list(out_dir.glob(".720p.mp4.*.part"))  # killed while ffmpeg was writing
    assert not [p for p in out_dir.iterdir() if not p.name.startswith(".")]

    source = sample("hevc_rotated.mov")
    result = transcode(source, out_dir, probe_result=probe(source))

    assert sorted(p.name for p in result.paths) == sorted(
        ["720p.mp4", "poster.jpg", "waveform.json"]
    )
    assert all(probe(r.path).has_video for r in result.renditions)


def test_a_failed_transcode_leaves_no_file_behind(tmp_path):
    source = probe(sample("h264_aac.mp4"))
    broken = dataclasses.replace(source, audio_stream_index=7)  # no such stream: ffmpeg fails

    with pytest.raises(TranscodeFailed) as raised:
        transcode(sample("h264_aac.mp4"), tmp_path, probe_result=broken)

    assert raised.value.code == "transcode_failed"
    assert "Stream" in str(raised.value.__cause__)  # ffmpeg's own words kept for the logs
    assert list(tmp_path.iterdir()) == []


def test_a_transcode_over_its_time_budget_is_stopped_and_retryable(tmp_path):
    # A pipe nobody writes to: ffmpeg waits on it for ever, however fast or loaded the
    # machine, so only the time budget can end the run.
    stalled = tmp_path / "stalled.mp4"
    os.mkfifo(stalled)
    out_dir = tmp_path / "out"

    started = time.monotonic()
    with pytest.raises(ProcessingTimeout) as raised:
        transcode(stalled, out_dir, probe_result=probe(sample("h264_aac.mp4")), timeout_s=0.5)

    assert time.monotonic() - started < 10
    assert raised.value.transient
    assert list(out_dir.iterdir()) == []


def test_leftovers_of_a_killed_worker_are_swept(tmp_path):
    stale = tmp_path / ".720p.mp4.0123abcd.part"
    stale.write_bytes(b"half a video")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".720p.mp4.4567ef01.part"  # maybe a live worker's: left alone
    fresh.write_bytes(b"in progress")

    transcode(sample("tone.wav"), tmp_path, probe_result=probe(sample("tone.wav")))

    assert not stale.exists()
    assert fresh.exists()


@pytest.mark.parametrize(
    ("size", "short_side", "expected"),
    [
        ((1920, 1080), 720, (1280, 720)),
        ((1920, 1080), 360, (640, 360)),
        ((1080, 1920), 720, (720, 1280)),  # portrait: "720p" is the short side
        ((3840, 2160), 360, (640, 360)),
        ((640, 480), 360, (480, 360)),
        ((320, 180), 720, (320, 180)),  # never upscaled
        ((853, 481), 720, (852, 480)),  # odd sizes become even, never larger
        ((1440, 1080), 720, (960, 720)),
    ],
)
def test_scaled_size(size, short_side, expected):
    assert scaled_size(*size, short_side=short_side) == expected


# --- Copy or re-encode ------------------------------------------------------------------


def _codec_params(path) -> tuple:
    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context
        audio = next(iter(container.streams.audio), None)
        return (
            video.name, video.profile, video.level, video.pix_fmt, video.width, video.height,
            bytes(video.extradata or b""),
            audio and (audio.codec_context.name, audio.codec_context.profile,
                       audio.codec_context.sample_rate, audio.codec_context.channels),
        )


def _decodes_cleanly(path) -> bool:
    completed = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
        capture_output=True, check=False, timeout=60,
    )
    return completed.returncode == 0 and not completed.stderr


@pytest.mark.parametrize("name", BROWSER_READY)
def test_a_browser_ready_upload_is_copied_not_reencoded(name, transcoded):
    # Given an H.264/AAC upload of at most 720p (the MP4 has its index at the end)
    source, result = transcoded(name)

    # Then its streams went into the MP4 untouched: the same coded bytes, packet for packet
    (rendition,) = result.renditions
    assert result.copied and result.reencode_reasons == ()
    assert stream_digest(rendition.path, "video") == stream_digest(sample(name), "video")
    if source.has_audio:
        assert stream_digest(rendition.path, "audio") == stream_digest(sample(name), "audio")
    assert _codec_params(rendition.path) == _codec_params(sample(name))
    # And it is a fresh, streamable MP4 that plays to the end
    assert _has_faststart(rendition.path)
    assert probe(rendition.path).container == "mp4"
    assert _decodes_cleanly(rendition.path)
    assert (rendition.width, rendition.height) == (source.width, source.height)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hevc_rotated.mov", "video codec hevc"),
        ("h264_1080p.mp4", "larger than 720p (1920x1080)"),
        ("h264_yuv444.mp4", "pixel format yuv444p"),
        ("h264_flac.mkv", "audio codec flac"),
        ("vp9_opus.webm", "container webm"),
    ],
)
def test_an_upload_browsers_cannot_play_as_it_is_is_reencoded(name, reason, transcoded):
    _, result = transcoded(name)

    (rendition,) = result.renditions
    assert not result.copied
    assert reason in result.reencode_reasons
    assert stream_digest(rendition.path, "video") != stream_digest(sample(name), "video")
    output = probe(rendition.path)
    assert (output.video_codec, output.video_profile, output.pixel_format) == (
        "h264", "High", "yuv420p"
    )
    assert output.audio_codec == "aac"
    assert _decodes_cleanly(rendition.path)


def test_a_damaged_h264_stream_is_reencoded_never_served_as_it_is(tmp_path):
    # Given an H.264/AAC MP4 whose middle video packet is garbage: the probe cannot tell
    # (it decodes only the first frame), so by its looks the file could be copied
    source = sample("h264_damaged.mp4")
    info = probe(source)
    assert reencode_reasons(info) == ()
    assert not _decodes_cleanly(source)

    # When it is processed
    result = transcode(source, tmp_path, probe_result=info)

    # Then the full decode of the copy pass caught it, and the damage was re-encoded away
    assert result.reencode_reasons == (REENCODE_DAMAGED,)
    (rendition,) = result.renditions
    assert stream_digest(rendition.path, "video") != stream_digest(source, "video")
    assert _decodes_cleanly(rendition.path)
    assert abs(probe(rendition.path).duration_s - info.duration_s) <= 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["720p.mp4", "poster.jpg", "waveform.json"]


def test_a_file_that_claims_h264_but_holds_garbage_is_refused(tmp_path):
    # Every video packet after the container's header overwritten: nothing decodes at all
    data = bytearray(sample("h264_aac.mp4").read_bytes())
    with av.open(str(sample("h264_aac.mp4"))) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    for packet in packets:
        data[packet.pos : packet.pos + packet.size] = b"\x00" * packet.size
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(bytes(data))

    with pytest.raises(MediaRejected) as refused:
        probe(fake)

    assert refused.value.code == "damaged"


def test_a_copy_can_be_refused_on_purpose(tmp_path):
    source = probe(sample("h264_aac.mp4"))

    result = transcode(sample("h264_aac.mp4"), tmp_path, probe_result=source, reencode=True)

    assert not result.copied
    assert stream_digest(result.renditions[0].path, "video") != stream_digest(
        sample("h264_aac.mp4"), "video"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rotation": 90}, "rotated 90"),
        ({"pixel_aspect": 4 / 3}, "non-square pixels"),
        ({"video_level": 51}, "H.264 level 51"),
        ({"video_level": None}, "H.264 level None"),
        ({"video_profile": "High 10"}, "H.264 profile High 10"),
        ({"pixel_format": "yuvj420p"}, "pixel format yuvj420p"),
        ({"interlaced": True}, "interlaced"),
        ({"hdr": "hlg"}, "HDR hlg"),
        ({"fps": 120.0}, "frame rate 120.0"),
        ({"width": 640, "height": 361}, "odd size (640x361)"),
        ({"width": 1080, "height": 1920}, "larger than 720p (1080x1920)"),
        ({"size_bytes": 2_000_001}, "bitrate 8.0 Mbit/s"),  # just over 8 Mbit/s for 2 s
        ({"audio_profile": "HE-AAC"}, "AAC profile HE-AAC"),
        ({"channels": 6}, "6 audio channels"),
        ({"sample_rate": 96000}, "sample rate 96000"),
        ({"container": "webm"}, "container webm"),
    ],
)
def test_each_rule_of_playability_sends_the_upload_to_be_reencoded(change, reason):
    ready = probe(sample("h264_aac.mp4"))
    assert reencode_reasons(ready) == ()

    assert reencode_reasons(dataclasses.replace(ready, duration_s=2.0, **change)) == (reason,)


def test_portrait_720p_is_copied_as_it_is():
    ready = probe(sample("h264_aac.mp4"))

    assert reencode_reasons(dataclasses.replace(ready, width=720, height=1280)) == ()


def test_a_video_track_shorter_than_the_poster_offset_still_gets_a_poster(tmp_path):
    # The poster is picked at 10% of the duration (0.2 s); the picture ends at 0.1 s
    source = sample("short_picture.mp4")

    result = transcode(source, tmp_path, probe_result=probe(source))

    with Image.open(result.poster) as poster:
        assert poster.size == (640, 360)
