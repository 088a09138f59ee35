"""Pairs with a known time map made from real recordings, for bench/alignment_real.py and its
test (tests/learning/test_real_pairs.py).

A reply is played from a *plan*: pieces of the recording, each at its own speed (a
time-stretch that keeps the pitch), and silences between them. Pieces may jump forward (a
skipped passage) or back (a repeated one). While the reply is put together, every piece's
place in it is written down as a `Segment` (recording seconds -> reply seconds, linear),
which is the truth an aligner is scored against. The stretch and the transposition are the
bundled ffmpeg's filters (atempo, rubberband), their delay measured and taken out. Room
colour, noise and a telephone band are applied afterwards to the whole reply, with filters
that do not move time.

This module is for the benchmark and the tests, never the worker.
"""

from __future__ import annotations

import functools
import itertools
import subprocess
from dataclasses import dataclass, field

import numpy as np
import scipy.signal

RATE = 22_050
CONTEXT_S = 0.25  # recording stretched on each side of a piece, so its edges are clean
FADE_S = 0.01  # the cross-fade at each join (centred on it, so both sides keep their times)
# The stretch and the transposition whose timing held best on calibration tones, once their
# constant delay is taken out: ffmpeg's atempo (WSOLA) within ±6 ms, also on transposed
# sound; Rubber Band's crisp pitch shift within ±2 ms. (librosa's phase vocoder scatters
# stretched onsets by ±30 ms, and Rubber Band's time-stretch by up to 30 ms depending on
# the material.)
STRETCH_FILTER = "atempo={speed:.4f}"
PITCH_OPTIONS = "transients=crisp"


@dataclass(frozen=True)
class Piece:
    """The recording from start_s to end_s, played at `speed` (0.6 = slower, 1.5 = faster)."""

    start_s: float
    end_s: float
    speed: float = 1.0


@dataclass(frozen=True)
class Silence:
    length_s: float


@dataclass(frozen=True)
class Segment:
    """Recording seconds [demo_start_s, demo_end_s) sound at reply seconds from reply_start_s
    on, at `speed`."""

    demo_start_s: float
    demo_end_s: float
    reply_start_s: float
    speed: float

    def reply_at(self, demo_s):
        return self.reply_start_s + (np.asarray(demo_s) - self.demo_start_s) / self.speed


@dataclass(frozen=True)
class Truth:
    segments: tuple[Segment, ...]

    def reply_times(self, demo_s: float) -> list[float]:
        """Every reply time at which the recording's moment demo_s sounds: none if the
        reply skipped it, two if it repeated it."""
        return [
            float(segment.reply_at(demo_s))
            for segment in self.segments
            if segment.demo_start_s <= demo_s < segment.demo_end_s
        ]

    def errors_ms(self, demo_s: np.ndarray, predicted_s: np.ndarray) -> np.ndarray:
        """|predicted - true| at each moment the reply plays (NaN where it skipped it); where
        it played a moment twice, either place counts as right."""
        errors = np.full(len(demo_s), np.nan)
        for index, (moment, predicted) in enumerate(zip(demo_s, predicted_s, strict=True)):
            times = self.reply_times(float(moment))
            if times:
                errors[index] = 1000.0 * min(abs(predicted - t) for t in times)
        return errors


@dataclass(frozen=True)
class Pair:
    name: str
    demo: np.ndarray = field(repr=False)
    reply: np.ndarray = field(repr=False)
    truth: Truth | None  # None: an unrelated reply, which must be rejected
    transpose: int = 0
    rate: int = RATE


def _ffmpeg(samples: np.ndarray, audio_filter: str) -> np.ndarray:
    """The bundled ffmpeg's audio filter on float samples, piped through."""
    from learning.media.pipeline.runner import ffmpeg_exe

    completed = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(RATE),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-af",
            audio_filter,
            "-f",
            "f32le",
            "pipe:1",
        ],
        input=np.ascontiguousarray(samples, dtype="<f4").tobytes(),
        capture_output=True,
        timeout=120,
        check=True,
    )
    return np.frombuffer(completed.stdout, dtype="<f4").astype(np.float32)


def calibration_notes(
    *, seconds: float = 8.0, period_s: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Short decaying tones, one every period_s: (samples, their start times)."""
    samples = np.zeros(int(seconds * RATE), dtype=np.float32)
    t = np.arange(int(0.2 * RATE)) / RATE
    starts = np.arange(0.25, seconds - 0.3, period_s)
    for index, start in enumerate(starts):
        hz = (440.0, 554.4, 659.3, 880.0)[index % 4]
        tone = np.sin(2 * np.pi * hz * t) * np.minimum(t / 0.003, 1.0) * np.exp(-t / 0.04)
        at = round(start * RATE)
        samples[at : at + len(tone)] += tone.astype(np.float32)
    return samples, starts


def energy_centres(samples: np.ndarray) -> np.ndarray:
    """The energy centroid of each separate sound (seconds). A time map that is linear over a
    sound maps its centroid exactly, however the stretch smears its attack."""
    energy = samples.astype(np.float64) ** 2
    width = int(0.01 * RATE)
    envelope = scipy.signal.fftconvolve(energy, np.ones(width) / width, mode="same")
    peaks, _ = scipy.signal.find_peaks(
        envelope, height=0.05 * envelope.max(), distance=int(0.2 * RATE)
    )
    bounds = np.concatenate([[0], (peaks[1:] + peaks[:-1]) // 2, [len(samples)]])
    index = np.arange(len(samples))
    return (
        np.array(
            [
                np.sum(energy[a:b] * index[a:b]) / np.sum(energy[a:b])
                for a, b in itertools.pairwise(bounds)
            ]
        )
        / RATE
    )


@functools.cache
def _delay_s(audio_filter: str, speed: float) -> float:
    """How late (seconds) the filter puts sound against the linear map t / speed (10 to 20 ms
    for atempo, depending on the speed). Measured once per filter on calibration tones and
    taken out of its output."""
    samples, _ = calibration_notes()
    before = energy_centres(samples)
    after = energy_centres(_ffmpeg(samples, audio_filter))
    if len(before) != len(after):
        raise RuntimeError(f"calibration of {audio_filter} lost tones")
    return float(np.median(after - before / speed))


def _undelayed(samples: np.ndarray, audio_filter: str, speed: float) -> np.ndarray:
    out = _ffmpeg(samples, audio_filter)
    shift = round(_delay_s(audio_filter, speed) * RATE)
    if shift > 0:
        return np.concatenate([out[shift:], np.zeros(shift, dtype=np.float32)])
    return np.concatenate([np.zeros(-shift, dtype=np.float32), out[: len(out) + shift]])


def stretch(samples: np.ndarray, speed: float) -> np.ndarray:
    """Played at `speed` (0.5 to 2), the pitch kept."""
    if speed == 1.0:
        return samples
    return _undelayed(samples, STRETCH_FILTER.format(speed=speed), speed)


def transpose(samples: np.ndarray, semitones: int) -> np.ndarray:
    """Shifted by `semitones`, the timing kept."""
    ratio = 2.0 ** (semitones / 12)
    return _undelayed(samples, f"rubberband=pitch={ratio:.6f}:{PITCH_OPTIONS}", 1.0)


def play(recording: np.ndarray, plan: list[Piece | Silence], *, rate: int = RATE):
    """The reply a plan makes of a recording, and its truth."""
    fade = int(FADE_S * rate)
    context = int(CONTEXT_S * rate)
    out = np.zeros(0, dtype=np.float32)
    segments = []
    cursor = 0  # reply samples written so far (the last `fade` are still open for the join)
    for step in plan:
        if isinstance(step, Silence):
            chunk = np.zeros(round(step.length_s * rate) + 2 * fade, dtype=np.float32)
        else:
            first = round(step.start_s * rate)
            last = min(round(step.end_s * rate), len(recording))
            lo = max(0, first - context)
            hi = min(len(recording), last + context)
            stretched = stretch(recording[lo:hi], step.speed)
            begin = round((first - lo) / step.speed)
            length = round((last - first) / step.speed)
            # `fade` samples of the stretched context on each side, for the cross-fades.
            chunk = np.zeros(length + 2 * fade, dtype=np.float32)
            source = stretched[max(0, begin - fade) : begin + length + fade]
            offset = fade - min(fade, begin)
            chunk[offset : offset + len(source)] = source[: len(chunk) - offset]
            segments.append(
                Segment(
                    demo_start_s=first / rate,
                    demo_end_s=(first + length * step.speed) / rate,
                    reply_start_s=cursor / rate,
                    speed=step.speed,
                )
            )
        ramp = np.linspace(0.0, 1.0, 2 * fade, endpoint=False, dtype=np.float32)
        chunk[: 2 * fade] *= ramp
        chunk[-2 * fade :] *= ramp[::-1]
        # The chunk starts `fade` samples before the cursor: its ramp up meets the previous
        # chunk's ramp down around the join.
        start = cursor - fade
        if start < 0:
            chunk = chunk[-start:]
            start = 0
        end = start + len(chunk)
        if end > len(out):
            out = np.concatenate([out, np.zeros(end - len(out), dtype=np.float32)])
        out[start:end] += chunk
        cursor = end - fade
    return out[:cursor], Truth(segments=tuple(segments))


def tempo_curve(
    start_s: float,
    end_s: float,
    *,
    speed: float = 1.0,
    depth: float = 0.0,
    period_s: float = 12.0,
    phase: float = 0.0,
    step_s: float = 1.0,
) -> list[Piece]:
    """A tempo that swings ±depth around `speed`, as pieces of step_s seconds."""
    pieces = []
    at = start_s
    while at < end_s - 1e-9:
        upto = min(end_s, at + step_s)
        swing = 1.0 + depth * np.sin(2 * np.pi * at / period_s + phase)
        pieces.append(Piece(at, upto, round(float(speed * swing), 4)))
        at = upto
    return pieces


# --- What a room, a phone and a noisy place do to the reply ----------------------------------


def room(samples: np.ndarray, *, rt60_s: float = 0.5, wet: float = 0.35, seed: int = 0):
    """A short synthetic reverberation: the direct sound plus decaying noise (no delay on the
    direct path, so the times stay)."""
    rng = np.random.default_rng(seed)
    n = int(rt60_s * RATE)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    tail[: int(0.005 * RATE)] = 0.0
    tail *= wet / np.sqrt(np.sum(tail**2))
    impulse = np.concatenate([[1.0], tail[1:]])
    return scipy.signal.fftconvolve(samples, impulse)[: len(samples)].astype(np.float32)


def phone(samples: np.ndarray) -> np.ndarray:
    """The 300-3,400 Hz band of a telephone microphone, filtered forwards and backwards (no
    delay)."""
    sos = scipy.signal.butter(6, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    return scipy.signal.sosfiltfilt(sos, samples).astype(np.float32)


def noise(samples: np.ndarray, *, snr_db: float = 20.0, seed: int = 1) -> np.ndarray:
    sounding = samples[np.abs(samples) > 1e-4]
    power = np.mean(sounding**2) if len(sounding) else 1e-6
    rng = np.random.default_rng(seed)
    hiss = rng.standard_normal(len(samples)) * np.sqrt(power / 10 ** (snr_db / 10))
    return (samples + hiss).astype(np.float32)
