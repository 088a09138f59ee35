"""Waveform peaks for the compare page's timeline.

ffmpeg decodes the first audio stream to 16-bit PCM at a low sample rate and pipes it to us;
each window of samples becomes one peak, its largest absolute amplitude as a float in 0..1
(not normalised: a quiet recording looks quiet, and the page may scale it). The standard
library's `array` does the arithmetic in C, so numpy is not needed.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

from .probing import MediaInfo
from .runner import run_ffmpeg

PEAKS_PER_SECOND = 20  # 50 ms a peak: finer than a timeline pixel for clips under ~1 minute
SAMPLE_RATE = 8000  # plenty for a peak envelope; keeps an hour of audio under 60 MB in memory
FULL_SCALE = 32768.0
# Channels stay apart: a mono downmix would halve a hard-panned instrument. Surround
# sound is folded to stereo first, as a browser would play it.
MAX_CHANNELS = 2


@dataclass(frozen=True)
class Waveform:
    """Peak amplitudes (0..1) at a fixed rate, covering the probed duration exactly."""

    peaks_per_second: int
    peaks: tuple[float, ...]

    def to_json(self) -> str:
        """The waveform as the compact JSON document the timeline loads."""
        return json.dumps(
            {"peaks_per_second": self.peaks_per_second, "peaks": list(self.peaks)},
            separators=(",", ":"),
        )


def peak_count(duration_s: float, peaks_per_second: int) -> int:
    """How many peaks cover `duration_s`: the last, partial window counts as one."""
    return max(1, math.ceil(round(duration_s * peaks_per_second, 6)))


def waveform_peaks(
    source: str | Path,
    *,
    probe_result: MediaInfo,
    peaks_per_second: int = PEAKS_PER_SECOND,
    timeout_s: float | None = None,
) -> Waveform:
    """Peaks of the first audio stream; all zero for a video without sound."""
    if not probe_result.has_audio:
        return waveform_from_pcm(b"", probe_result=probe_result, peaks_per_second=peaks_per_second)
    pcm = run_ffmpeg(
        ["-i", str(source), *pcm_output_args(probe_result)],
        timeout_s=timeout_s or 30 + probe_result.duration_s,
        failure_message="We could not read the sound of this recording.",
    )
    return waveform_from_pcm(pcm, probe_result=probe_result, peaks_per_second=peaks_per_second)


def pcm_output_args(probe_result: MediaInfo) -> list[str]:
    """ffmpeg output arguments that write the audio as the PCM the peaks are read from, to
    stdout; the transcoder adds them to its own pass, so the source is decoded once."""
    return [
        "-map", f"0:{probe_result.audio_stream_index}",
        "-ac", str(_channels(probe_result)), "-ar", str(SAMPLE_RATE),
        "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1",
    ]


def waveform_from_pcm(
    pcm: bytes, *, probe_result: MediaInfo, peaks_per_second: int = PEAKS_PER_SECOND
) -> Waveform:
    """The waveform of PCM written by `pcm_output_args` (silence when there is no audio)."""
    count = peak_count(probe_result.duration_s, peaks_per_second)
    if not probe_result.has_audio:
        return Waveform(peaks_per_second=peaks_per_second, peaks=(0.0,) * count)
    window = SAMPLE_RATE // peaks_per_second * _channels(probe_result)
    return Waveform(
        peaks_per_second=peaks_per_second,
        peaks=peaks_from_pcm(pcm, count=count, window=window),
    )


def _channels(probe_result: MediaInfo) -> int:
    return min(probe_result.channels or 1, MAX_CHANNELS)


def peaks_from_pcm(pcm: bytes, *, count: int, window: int) -> tuple[float, ...]:
    """Largest absolute amplitude of each `window` samples of s16le PCM, padded to `count`.

    Interleaved channels need no special care: a window spanning whole frames takes the
    loudest sample of any channel.
    """
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % samples.itemsize])
    if sys.byteorder == "big":
        samples.byteswap()
    peaks = []
    for index in range(count):
        chunk = samples[index * window : (index + 1) * window]
        if not chunk:
            peaks.append(0.0)  # decoded audio ended before the container's duration
            continue
        loudest = max(max(chunk), -min(chunk))
        peaks.append(round(min(loudest / FULL_SCALE, 1.0), 3))
    return tuple(peaks)


def write_waveform(waveform: Waveform, path: Path) -> None:
    """Write the waveform's JSON to `path` (callers stage it for atomicity)."""
    path.write_text(waveform.to_json(), encoding="utf-8")
