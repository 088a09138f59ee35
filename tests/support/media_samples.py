"""Small media files made on demand with the bundled ffmpeg, as phones and browsers send them.

`sample(name)` builds the file the first time it is asked for (2 s of lavfi test pictures and
a sine tone) into one temporary directory per test process and returns its path; later calls
reuse it. Tests of the pipeline, the Celery tasks and the pages can all draw from here.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import random
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import av

from learning.media.pipeline.runner import ffmpeg_exe

DURATION_S = 2
TONE_HZ = 440
# Every generated sine has this amplitude; waveform tests check their peaks against it.
TONE_AMPLITUDE = 0.5


def _picture(size: str, rate: int = 30) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={DURATION_S}"]


def _tone(sample_rate: int = 48000, channels: int = 1) -> list[str]:
    # pan copies the tone to both sides at full level (an upmix would lower it by 3 dB).
    layout = "pan=stereo|c0=c0|c1=c0," if channels == 2 else ""
    return [
        "-f", "lavfi",
        "-i", f"sine=frequency={TONE_HZ}:sample_rate={sample_rate}:duration={DURATION_S}",
        "-af", f"{layout}volume={TONE_AMPLITUDE * 8}",
    ]


# name -> ffmpeg arguments (inputs, codecs, output placeholder "{out}").
RECIPES: dict[str, list[str]] = {
    # A camera or desktop app's MP4: moov at the end (no faststart), like most encoders write.
    "h264_aac.mp4": [
        *_picture("960x540"), *_tone(),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    ],
    # A video with no sound at all.
    "h264_silent.mp4": [
        *_picture("640x360"), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    ],
    # An iPhone portrait clip: landscape HEVC pixels plus a 90° clockwise rotation tag
    # (built in two steps below, "hevc_rotated.mov" uses this as its source).
    "hevc_plain.mov": [
        *_picture("960x540"), *_tone(sample_rate=44100, channels=2),
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
        "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-c:a", "aac",
    ],
    # An iPhone's default since the iPhone 12: 10-bit HDR HEVC (BT.2020, HLG).
    "hevc_hlg.mov": [
        *_picture("960x540"), *_tone(),
        "-c:v", "libx265", "-preset", "ultrafast",
        "-x265-params",
        "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
        "-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", "arib-std-b67",
        "-colorspace", "bt2020nc", "-tag:v", "hvc1", "-c:a", "aac",
    ],
    # Chrome's and Firefox's MediaRecorder: WebM with VP9, VP8 or AV1 video and Opus sound.
    "vp9_opus.webm": [
        *_picture("640x360"), *_tone(),
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k",
        "-c:a", "libopus",
    ],
    "vp8_opus.webm": [
        *_picture("640x360"), *_tone(),
        "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k",
        "-c:a", "libopus",
    ],
    "av1_opus.webm": [
        *_picture("640x360"), *_tone(),
        "-c:v", "libsvtav1", "-preset", "12", "-svtav1-params", "lp=1",
        "-c:a", "libopus",
    ],
    # Fit for browsers but too large to serve: a phone's default 1080p.
    "h264_1080p.mp4": [
        *_picture("1920x1080"), *_tone(),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    ],
    # H.264 in a profile browsers do not decode (High 4:4:4, from screen recorders).
    "h264_yuv444.mp4": [
        *_picture("640x360"), *_tone(),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-c:a", "aac",
    ],
    # OBS's default on teachers' desktops: H.264 and AAC in Matroska.
    "h264_aac.mkv": [
        *_picture("640x360"), *_tone(channels=2),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    ],
    # A tenth of a second of picture over two seconds of sound (a camera's title card).
    "short_picture.mp4": [
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=0.1", *_tone(),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    ],
    "h264_flac.mkv": [
        *_picture("640x480"), *_tone(channels=2),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "flac",
    ],
    "aac.m4a": [*_tone(sample_rate=44100, channels=2), "-c:a", "aac", "-b:a", "96k"],
    "tone.mp3": [*_tone(sample_rate=44100), "-c:a", "libmp3lame", "-b:a", "64k"],
    "tone.wav": [*_tone(), "-c:a", "pcm_s16le"],
    # A hard-panned instrument: the tone on the left, silence on the right.
    "left_only.wav": [
        "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:duration={DURATION_S}",
        "-af", f"pan=stereo|c0=c0|c1=0*c0,volume={TONE_AMPLITUDE * 8}", "-c:a", "pcm_s16le",
    ],
}


def _run(args: list[str]) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True, timeout=120,
    )


@functools.cache
def _root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="practika-media-samples-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _from_recipe(name: str, out: Path) -> None:
    _run([*RECIPES[name], "-f", _muxer(name), str(out)])


def _muxer(name: str) -> str:
    return {"mp4": "mp4", "m4a": "ipod", "mov": "mov", "webm": "webm", "mkv": "matroska",
            "mp3": "mp3", "wav": "wav"}[name.rsplit(".", 1)[1]]


def _hevc_rotated(out: Path) -> None:
    # -display_rotation counts counter-clockwise; a phone's "rotate 90" tag is clockwise.
    _run(["-display_rotation", "-90", "-i", str(sample("hevc_plain.mov")), "-c", "copy",
          "-f", "mov", str(out)])


def _webm_streamed(out: Path) -> None:
    # Written to a pipe, as MediaRecorder writes: no duration in the header and no cues.
    completed = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
         *RECIPES["vp8_opus.webm"], "-f", "webm", "pipe:1"],
        check=True, timeout=120, capture_output=True,
    )
    out.write_bytes(completed.stdout)


def _mp3_with_cover(out: Path) -> None:
    cover = _root() / "cover.jpg"
    _run(["-f", "lavfi", "-i", "testsrc2=size=128x128", "-frames:v", "1", str(cover)])
    _run(["-i", str(sample("tone.mp3")), "-i", str(cover), "-map", "0", "-map", "1",
          "-c", "copy", "-disposition:v", "attached_pic", "-id3v2_version", "3",
          "-f", "mp3", str(out)])


def _half_of(name: str) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        data = sample(name).read_bytes()
        out.write_bytes(data[: len(data) // 2])

    return build


def _damaged_h264(out: Path) -> None:
    # Garbage over one video packet in the middle: the index, the first frame and every
    # packet's size are intact, so the probe accepts it; only decoding that packet fails.
    source = sample("h264_aac.mp4")
    with av.open(str(source)) as container:
        packets = [p for p in container.demux(video=0) if p.size and p.pos is not None]
    packet = packets[len(packets) // 2]
    data = bytearray(source.read_bytes())
    data[packet.pos + 8 : packet.pos + packet.size] = random.Random(12).randbytes(packet.size - 8)
    out.write_bytes(bytes(data))


def _faststart_h264(out: Path) -> None:
    _run(["-i", str(sample("h264_aac.mp4")), "-c", "copy", "-movflags", "+faststart",
          "-f", "mp4", str(out)])


def _subtitles_only(out: Path) -> None:
    subtitles = _root() / "subtitles.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,500\nHello\n", encoding="utf-8")
    _run(["-i", str(subtitles), "-c:s", "srt", "-f", "matroska", str(out)])


BUILDERS: dict[str, Callable[[Path], None]] = {
    "hevc_rotated.mov": _hevc_rotated,
    "vp8_streamed.webm": _webm_streamed,
    "cover.mp3": _mp3_with_cover,
    "h264_faststart.mp4": _faststart_h264,
    "h264_damaged.mp4": _damaged_h264,
    # Uploads cut off halfway: index at the end (lost), and index first (promises too much).
    "truncated.mp4": _half_of("h264_aac.mp4"),
    "truncated_faststart.mp4": _half_of("h264_faststart.mp4"),
    "empty.mp4": lambda out: out.write_bytes(b""),
    "notes.mp4": lambda out: out.write_text(
        "Practice notes: bars 12-16 slower, watch the left hand.\n" * 20, encoding="utf-8"
    ),
    "photo.mp4": lambda out: _run(
        ["-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", "-f", "image2",
         "-c:v", "mjpeg", str(out)]
    ),
    "subtitles_only.mkv": _subtitles_only,
}

# Files the pipeline must turn into playable renditions, and files it must refuse.
GOOD_VIDEO = (
    "h264_aac.mp4", "h264_silent.mp4", "hevc_rotated.mov", "hevc_hlg.mov", "vp9_opus.webm",
    "vp8_opus.webm",
    "vp8_streamed.webm", "av1_opus.webm", "h264_flac.mkv", "h264_1080p.mp4", "h264_yuv444.mp4",
    "h264_aac.mkv",
)
GOOD_AUDIO = ("aac.m4a", "tone.mp3", "cover.mp3", "tone.wav")


@functools.cache
def sample(name: str) -> Path:
    """Path of the sample called `name`, generated on first use."""
    out = _root() / name
    if name in RECIPES:
        _from_recipe(name, out)
    else:
        BUILDERS[name](out)
    return out


def top_level_boxes(path: Path) -> list[tuple[str, int]]:
    """The (type, offset) of each top-level ISO BMFF box: shows where moov and mdat sit."""
    boxes = []
    data = path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:  # box runs to the end of the file
            size = len(data) - offset
        boxes.append((kind.decode("latin-1"), offset))
        if size < 8:
            break
        offset += size
    return boxes


def stream_digest(path: Path, kind: str) -> str:
    """SHA-256 over the coded packets of the first `kind` ("video" or "audio") stream: equal
    digests mean the same coded bytes, a stream copied and not re-encoded."""
    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        for packet in container.demux(stream):
            if packet.size:
                digest.update(bytes(packet))
    return digest.hexdigest()
