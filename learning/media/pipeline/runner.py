"""Runs the bundled ffmpeg (from imageio-ffmpeg) as a subprocess with a hard time limit.

Every call passes `-nostdin` (a worker has no terminal, and ffmpeg would otherwise wait on
stdin) and keeps stderr, so a failure carries ffmpeg's own last words into the logs.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence

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


def stream_ffmpeg(
    args: Sequence[str], *, timeout_s: float, failure_message: str, chunk_bytes: int = 1 << 17
) -> Iterator[bytes]:
    """Run ffmpeg with `args` and yield its stdout in chunks as it comes (nothing of it
    kept here); the same time limit and errors as `run_ffmpeg`, raised from the iterator.
    Closing the iterator early stops ffmpeg."""
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", *args]
    with tempfile.TemporaryFile() as stderr:  # a file: a chatty ffmpeg cannot block on it
        process = subprocess.Popen(  # noqa: S603 - fixed binary, arguments built by us
            command, stdout=subprocess.PIPE, stderr=stderr
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            process.kill()

        timer = threading.Timer(timeout_s, expire)
        timer.start()
        try:
            while chunk := process.stdout.read(chunk_bytes):
                yield chunk
            returncode = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
        if expired.is_set():
            raise ProcessingTimeout(
                "Processing this recording took too long. We will try again.", "timeout"
            )
        if returncode != 0:
            stderr.seek(0)
            detail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL_CHARS:]
            raise TranscodeFailed(failure_message, "transcode_failed") from FFmpegExit(
                returncode, detail
            )


class FFmpegExit(Exception):
    """ffmpeg's exit status and the tail of its stderr, chained as the cause of a MediaError."""

    def __init__(self, returncode: int, stderr_tail: str):
        super().__init__(f"ffmpeg exited with {returncode}: {stderr_tail}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail
