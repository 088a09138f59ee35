"""Generated music with a known time map, for the benchmark and the tests.

A *score* is a list of notes in score seconds. The demonstration plays it at a steady tempo;
a reply plays it through a `Warp` (score seconds -> reply seconds) that can speed up and slow
down, start late and pause, with another timbre, noise and an optional transposition. The
warp is the ground truth an alignment is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import features

SAMPLE_RATE = features.SAMPLE_RATE


@dataclass(frozen=True)
class Note:
    start_s: float
    duration_s: float
    pitches: tuple[float, ...]  # MIDI numbers; several make a chord
    detune_cents: float = 0.0


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]  # amplitude of harmonic 1, 2, 3, ...
    attack_s: float = 0.01
    decay_per_s: float = 0.0  # exponential decay while the note sounds (piano-like if > 0)
    release_s: float = 0.05


PIANO = Timbre(harmonics=(1.0, 0.6, 0.35, 0.2, 0.12, 0.08, 0.05), decay_per_s=2.5)
CLARINET = Timbre(harmonics=(1.0, 0.05, 0.5, 0.03, 0.3, 0.02, 0.15), attack_s=0.02)
STRINGS = Timbre(harmonics=(1.0, 0.5, 0.33, 0.25, 0.2, 0.16, 0.14, 0.12), attack_s=0.03)
ORGAN = Timbre(harmonics=(1.0, 0.8, 0.1, 0.5, 0.05, 0.3), attack_s=0.015)


@dataclass(frozen=True)
class Warp:
    """A monotonic map from score seconds to performance seconds, sampled on a fine grid."""

    score_s: np.ndarray = field(repr=False)
    perf_s: np.ndarray = field(repr=False)

    def __call__(self, score_s):
        return np.interp(score_s, self.score_s, self.perf_s)


def steady(*, duration_s: float, lead_in_s: float = 0.5) -> Warp:
    grid = np.array([0.0, duration_s + 60.0])
    return Warp(score_s=grid, perf_s=grid + lead_in_s)


def varying(
    *,
    duration_s: float,
    delay_s: float = 0.0,
    depth: float = 0.0,
    period_s: float = 40.0,
    phase: float = 0.0,
    faster: tuple[float, float, float] | None = None,
    pause: tuple[float, float] | None = None,
) -> Warp:
    """Tempo = 1 + depth·sin(...) times the score's (so ±depth), optionally `faster`
    (start_s, end_s, factor) in one passage and a `pause` (at_s, length_s) of silence."""
    step = 0.001
    grid = np.arange(0.0, duration_s + 60.0, step)
    rate = 1.0 + depth * np.sin(2 * np.pi * grid / period_s + phase)
    if faster is not None:
        start, end, factor = faster
        rate = np.where((grid >= start) & (grid < end), rate * factor, rate)
    perf = delay_s + np.concatenate([[0.0], np.cumsum(step / rate[:-1])])
    if pause is not None:
        at_s, length_s = pause
        # Half a step of slack: `at_s` is a sum of note lengths and carries rounding error.
        perf = perf + np.where(grid >= at_s - step / 2, length_s, 0.0)
    return Warp(score_s=grid, perf_s=perf)


def melody(*, duration_s: float, seed: int, low: int = 55, high: int = 79) -> list[Note]:
    """A random walk on a major scale with varied note lengths, legato."""
    rng = np.random.default_rng(seed)
    scale = [p for p in range(low, high + 1) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    position = len(scale) // 2
    notes, time = [], 0.0
    while time < duration_s:
        length = float(rng.choice([0.2, 0.3, 0.4, 0.6, 0.8], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
        position = int(np.clip(position + rng.integers(-3, 4), 0, len(scale) - 1))
        notes.append(Note(start_s=time, duration_s=length, pitches=(scale[position],)))
        time += length
    return notes


def chords(*, duration_s: float, seed: int) -> list[Note]:
    """Triads and sevenths in changing inversions, one every 0.5-1.5 s."""
    rng = np.random.default_rng(seed)
    roots = [48, 50, 52, 53, 55, 57, 59]
    notes, time = [], 0.0
    while time < duration_s:
        length = float(rng.choice([0.5, 0.75, 1.0, 1.5]))
        root = int(rng.choice(roots))
        third = 3 if root % 12 in (2, 4, 9, 11) else 4
        pitches = [root, root + third, root + 7]
        if rng.random() < 0.3:
            pitches.append(root + 10)
        pitches = [p + 12 * int(rng.integers(0, 2)) for p in pitches]
        notes.append(Note(start_s=time, duration_s=length, pitches=tuple(sorted(pitches))))
        time += length
    return notes


def note_start_near(notes: list[Note], at_s: float) -> float:
    """The first note start at or after `at_s` (a pause placed there cuts no note short)."""
    return next(n.start_s for n in notes if n.start_s >= at_s)


def detune(notes: list[Note], *, start_s: float, end_s: float, cents: float) -> list[Note]:
    """The same notes, those starting inside [start_s, end_s) played `cents` off."""
    return [
        Note(n.start_s, n.duration_s, n.pitches, cents) if start_s <= n.start_s < end_s else n
        for n in notes
    ]


def render(
    notes: list[Note],
    *,
    warp: Warp,
    timbre: Timbre,
    transpose: int = 0,
    snr_db: float | None = None,
    seed: int = 0,
    tail_s: float = 1.0,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Mono float32 audio of `notes` played through `warp`."""
    starts = warp(np.array([n.start_s for n in notes]))
    # A note's end is taken just before its score end so that a pause placed where the next
    # note starts does not stretch the note that ends there (the warp grid is 1 ms).
    ends = warp(np.array([n.start_s + n.duration_s - 0.002 for n in notes]))
    total = int((float(ends.max()) + tail_s) * sample_rate)
    out = np.zeros(total, dtype=np.float64)
    for note, start, end in zip(notes, starts, ends, strict=True):
        first = int(start * sample_rate)
        sounding = max(end - start, 0.05)
        length = int((sounding + timbre.release_s) * sample_rate)
        t = np.arange(length) / sample_rate
        envelope = np.minimum(t / timbre.attack_s, 1.0) * np.exp(-timbre.decay_per_s * t)
        envelope *= np.clip((sounding + timbre.release_s - t) / timbre.release_s, 0.0, 1.0)
        tone = np.zeros(length)
        for pitch in note.pitches:
            midi = pitch + transpose + note.detune_cents / 100.0
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            for k, amplitude in enumerate(timbre.harmonics, start=1):
                if k * f0 < sample_rate / 2.2:
                    tone += amplitude * np.sin(2 * np.pi * k * f0 * t + 0.3 * k)
        segment = out[first : first + length]
        segment += (0.2 / len(note.pitches)) * (tone * envelope)[: len(segment)]
    if snr_db is not None:
        rng = np.random.default_rng(seed)
        active = np.abs(out) > 1e-4
        power = float(np.mean(out[active] ** 2)) if active.any() else 1e-6
        out += rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), size=out.shape)
    return out.astype(np.float32)


@dataclass(frozen=True)
class Pair:
    """A demonstration, a reply and the truth: reply seconds of each demonstration onset."""

    name: str
    demo: np.ndarray = field(repr=False)
    reply: np.ndarray = field(repr=False)
    demo_onsets_s: np.ndarray = field(repr=False)
    reply_onsets_s: np.ndarray = field(repr=False)
    transpose: int = 0
    sample_rate: int = SAMPLE_RATE


def make_pair(
    name: str,
    *,
    notes: list[Note],
    reply_notes: list[Note] | None = None,
    warp: Warp,
    demo_timbre: Timbre = PIANO,
    reply_timbre: Timbre = STRINGS,
    transpose: int = 0,
    snr_db: float | None = 20.0,
    seed: int = 0,
    sample_rate: int = SAMPLE_RATE,
) -> Pair:
    duration = notes[-1].start_s + notes[-1].duration_s
    demo_warp = steady(duration_s=duration)
    demo = render(
        notes, warp=demo_warp, timbre=demo_timbre, snr_db=None, seed=seed,
        sample_rate=sample_rate,
    )
    reply = render(
        reply_notes or notes, warp=warp, timbre=reply_timbre, transpose=transpose,
        snr_db=snr_db, seed=seed + 1, sample_rate=sample_rate,
    )
    onsets = np.array([n.start_s for n in notes])
    return Pair(
        name=name, demo=demo, reply=reply, demo_onsets_s=demo_warp(onsets),
        reply_onsets_s=warp(onsets), transpose=transpose, sample_rate=sample_rate,
    )
