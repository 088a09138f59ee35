"""Runs the bundled ffmpeg (from imageio-ffmpeg) as a subprocess with a hard time limit.

Every call passes `-nostdin` (a worker has no terminal, and ffmpeg would otherwise wait on
stdin) and keeps stderr, so a failure carries ffmpeg's own last words into the logs.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence

import imageio_ffmpeg

from .errors import ProcessingTimeout, TranscodeFailed

# What a failure log keeps of ffmpeg's stderr: enough to see the cause, not a whole dump.
STDERR_TAIL_CHARS = 2000


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped inside the imageio-ffmpeg wheel."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str], *, timeout_s: float, failure_message: str) -> bytes:
    """Run ffmpeg with `args`, return its stdout; raise a MediaError on failure or timeout."""
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", *args]
    try:
        # subprocess.run kills the child when the timeout expires, so nothing lingers.
        completed = subprocess.run(  # noqa: S603 - fixed binary, arguments built by us
            command, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProcessingTimeout(
            "Processing this recording took too long. We will try again.", "timeout"
        ) from exc
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace")[-STDERR_TAIL_CHARS:]
        raise TranscodeFailed(failure_message, "transcode_failed") from FFmpegExit(
            completed.returncode, detail
        )
    return completed.stdout


class FFmpegExit(Exception):
    """ffmpeg's exit status and the tail of its stderr, chained as the cause of a MediaError."""

    def __init__(self, returncode: int, stderr_tail: str):
        super().__init__(f"ffmpeg exited with {returncode}: {stderr_tail}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail
