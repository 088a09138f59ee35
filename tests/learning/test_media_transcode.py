"""transcode(): every accepted input becomes browser-playable renditions, a poster and peaks."""

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
    ProcessingTimeout,
    TranscodeFailed,
    TranscodeResult,
    probe,
    scaled_size,
    transcode,
)
from learning.media.pipeline.waveform import peak_count
from tests.support.media_samples import GOOD_AUDIO, GOOD_VIDEO, sample, top_level_boxes

RENDITION_SHORT_SIDES = {"720p": 720, "360p": 360}


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
def test_video_becomes_720p_and_360p_h264_aac_mp4s(name, transcoded):
    source, result = transcoded(name)

    assert [r.name for r in result.renditions] == ["720p", "360p"]
    for rendition in result.renditions:
        output = probe(rendition.path)
        short_side = min(output.display_width, output.display_height)
        assert output.container == "mp4"
        assert output.video_codec == "h264"
        assert output.audio_codec == ("aac" if source.has_audio else None)
        assert output.rotation == 0  # upright pixels, no tag left for a player to misapply
        assert short_side <= RENDITION_SHORT_SIDES[rendition.name]
        assert short_side <= min(source.display_width, source.display_height)  # no upscale
        assert output.width % 2 == 0 and output.height % 2 == 0
        assert (output.width, output.height) == (rendition.width, rendition.height)
        source_aspect = source.display_width / source.display_height
        assert abs(output.width - output.height * source_aspect) <= 1  # aspect kept
        assert output.is_portrait == source.is_portrait
        assert abs(output.duration_s - source.duration_s) <= 0.2
        assert _has_faststart(rendition.path)


def test_portrait_phone_video_stays_portrait_at_both_sizes(transcoded):
    _, result = transcoded("hevc_rotated.mov")

    sizes = [(probe(r.path).width, probe(r.path).height) for r in result.renditions]
    assert sizes == [(540, 960), (360, 640)]
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
    _, result = transcoded("h264_aac.mp4")

    sizes = [(probe(r.path).width, probe(r.path).height) for r in result.renditions]
    assert sizes == [(960, 540), (640, 360)]  # 540 < 720: the 720p keeps the source size


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
        ["720p.mp4", "360p.mp4", "poster.jpg", "waveform.json"]
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
        [sys.executable, "-c", script, str(sample("h264_aac.mp4")), str(out_dir)],
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

    result = transcode(sample("h264_aac.mp4"), out_dir, probe_result=probe(sample("h264_aac.mp4")))

    assert sorted(p.name for p in result.paths) == sorted(
        ["720p.mp4", "360p.mp4", "poster.jpg", "waveform.json"]
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
    source = probe(sample("h264_aac.mp4"))

    started = time.monotonic()
    with pytest.raises(ProcessingTimeout) as raised:
        transcode(sample("h264_aac.mp4"), tmp_path, probe_result=source, timeout_s=0.05)

    assert time.monotonic() - started < 5
    assert raised.value.transient
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_worker_are_swept(tmp_path):
    stale = tmp_path / ".720p.mp4.0123abcd.part"
    stale.write_bytes(b"half a video")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".360p.mp4.4567ef01.part"  # maybe a live worker's: left alone
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
