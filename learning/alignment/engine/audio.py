"""Decoding a recording's sound for analysis: the bundled ffmpeg, mono float32 at
features.SAMPLE_RATE, piped straight into numpy (no temporary WAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from learning.media.pipeline.runner import run_ffmpeg

from . import features


def decode(path: str | Path, *, timeout_s: float = 120.0) -> np.ndarray:
    """Mono float32 samples of the first audio stream; empty when the file has none."""
    pcm = run_ffmpeg(
        [
            "-i", str(path), "-vn", "-map", "0:a:0?", "-ac", "1",
            "-ar", str(features.SAMPLE_RATE), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1",
        ],
        timeout_s=timeout_s,
        failure_message="We could not read the sound of this recording.",
    )
    return np.frombuffer(pcm, dtype="<f4").astype(np.float32)
