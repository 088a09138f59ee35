"""The recordings the load test sends, made with the bundled ffmpeg (a few seconds, once per run).

The demonstration is what a teacher's phone sends (720p H.264/AAC MP4); a reply is what the
recorder page's MediaRecorder sends (WebM, VP8/Opus), ten seconds long, so the worker really
transcodes every reply. They are made once per checkout and kept in `.data/load-clips/`
(`made()`); a change to a recipe changes its file name.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from learning.media.pipeline.runner import ffmpeg_exe

SECONDS = 10
RECIPES = 1  # bump when a recipe below changes


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=300,
    )


def _sources(size: str, hz: int) -> list[str]:
    return [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate=30:duration={SECONDS}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={hz}:sample_rate=48000:duration={SECONDS}",
    ]


def demonstration(out: Path) -> Path:
    _ffmpeg(
        *_sources("1280x720", 440),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        str(out),
    )
    return out


def reply(out: Path) -> Path:
    _ffmpeg(
        *_sources("640x480", 440),
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "1M",
        "-c:a",
        "libopus",
        "-b:a",
        "96k",
        "-f",
        "webm",
        str(out),
    )
    return out


def made(folder: Path) -> tuple[Path, Path]:
    """The demonstration and the reply in `folder`, made the first time they are asked for."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for make, name in ((demonstration, "demonstration.mp4"), (reply, "reply.webm")):
        path = folder / f"v{RECIPES}-{name}"
        if not path.exists():
            partial = path.with_name(f"partial-{os.getpid()}-{path.name}")
            make(partial)
            partial.rename(path)  # whole files only, even with two runs at once
        paths.append(path)
    return paths[0], paths[1]
