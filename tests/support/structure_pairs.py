"""Short generated pairs whose reply changes the piece's structure: a long pause, a skipped
passage, a repeated one, half and double speed (issue 14). The reply is played from a plan
of passages of the score, each at its own speed, with silences between, and the truth is
where each of the demonstration's notes sounds in the reply: nowhere if it was skipped,
twice if it was repeated."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from learning.alignment.engine import synthesis

SECONDS = 24.0
DEMO_LEAD_IN_S = 0.5  # synthesis.steady's default


@dataclass(frozen=True)
class Passage:
    start_s: float  # score seconds
    end_s: float
    speed: float = 1.0


@dataclass(frozen=True)
class Rest:
    length_s: float


@dataclass(frozen=True)
class StructurePair:
    name: str
    demo: np.ndarray = field(repr=False)
    reply: np.ndarray = field(repr=False)
    demo_onsets_s: np.ndarray = field(repr=False)
    # Per demonstration onset, every reply second at which that note starts.
    reply_onsets_s: tuple[tuple[float, ...], ...] = field(repr=False)

    def errors_ms(self, time_map) -> np.ndarray:
        """|predicted - true| at each demonstration onset the reply plays (either place
        counts for a repeated one); skipped notes are left out."""
        predicted = time_map.reply_at(self.demo_onsets_s * 1000) / 1000
        errors = [
            1000 * min(abs(p - t) for t in times)
            for p, times in zip(predicted, self.reply_onsets_s, strict=True)
            if times
        ]
        return np.asarray(errors)


@functools.cache
def melody() -> list[synthesis.Note]:
    return synthesis.melody(duration_s=SECONDS, seed=11)


def at_note(score_s: float) -> float:
    return synthesis.note_start_near(melody(), score_s)


def play(name: str, plan: list[Passage | Rest], *, lead_in_s: float = 1.0) -> StructurePair:
    notes = melody()
    reply_notes, times = [], [[] for _ in notes]
    now = lead_in_s
    for step in plan:
        if isinstance(step, Rest):
            now += step.length_s
            continue
        for index, note in enumerate(notes):
            if step.start_s - 1e-6 <= note.start_s < step.end_s - 1e-6:
                start = now + (note.start_s - step.start_s) / step.speed
                length = min(note.duration_s, step.end_s - note.start_s) / step.speed
                reply_notes.append(synthesis.Note(start, length, note.pitches))
                times[index].append(start)
        now += (step.end_s - step.start_s) / step.speed
    identity = synthesis.steady(duration_s=now + 5.0, lead_in_s=0.0)
    demo_warp = synthesis.steady(duration_s=SECONDS + 5.0)
    demo = synthesis.render(notes, warp=demo_warp, timbre=synthesis.PIANO)
    reply = synthesis.render(
        reply_notes, warp=identity, timbre=synthesis.STRINGS, snr_db=30.0, seed=5
    )
    return StructurePair(
        name=name,
        demo=demo,
        reply=reply,
        demo_onsets_s=np.array([n.start_s for n in notes]) + DEMO_LEAD_IN_S,
        reply_onsets_s=tuple(tuple(t) for t in times),
    )


@functools.cache
def pair(kind: str) -> StructurePair:
    end = melody()[-1].start_s + melody()[-1].duration_s
    if kind == "pause_restart":  # stops for 3 s, then takes up the piece again
        at = at_note(12.0)
        return play(kind, [Passage(0, at), Rest(3.0), Passage(at, end)])
    if kind == "skip":  # leaves out 5 s of the score
        a, b = at_note(9.0), at_note(14.0)
        return play(kind, [Passage(0, a), Passage(b, end)])
    if kind == "repeat":  # goes back 5 s and plays that passage again
        a, b = at_note(8.0), at_note(13.0)
        return play(kind, [Passage(0, b), Passage(a, end)])
    if kind == "half_speed":
        return play(kind, [Passage(0, end, speed=0.5)])
    if kind == "double_speed":
        return play(kind, [Passage(0, end, speed=2.0)])
    raise ValueError(kind)
