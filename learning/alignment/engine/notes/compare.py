"""Wrong, missed and extra notes: the two takes' notes compared through the time map.

Notes alone are a noisy reading (a soft note may be transcribed in one take and not the
other), so the comparison asks the model's activations, not only its notes:

* a demonstration note is *absent* from the reply when the reply's activation at that pitch
  (after any transposition) stays below `PRESENT` around the mapped onset;
* a reply note is *unexpected* when the demonstration's activation at its pitch stays below
  `PRESENT` around the time it maps to.

Only clear notes are judged (`MIN_AMPLITUDE`, `MIN_SECONDS`); an absent note and an
unexpected one that start within `PAIR_S` of each other are one **wrong** note ("F#4 played
as G4"); the absent ones left are **missed**, the unexpected ones **extra**. Notes inside a
passage the structure bands already name (missing, extra, late start, early end) are not
judged again note by note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import timemap
from . import note_creation as nc
from .transcribe import Note, note_name

PRESENT = 0.25  # activation that counts as the note sounding
MIN_AMPLITUDE = 0.45  # a note's mean activation before it is judged
PAIR_AMPLITUDE = 0.3  # the faintest note that may be one side of a wrong note
LOWEST = 36  # C2: lower notes are not judged
BASS_BELOW = 48  # C3
BASS_AMPLITUDE = 0.55
GHOST_BELOW = 0.55  # weaker notes over a stronger lower harmonic partner are not judged
MIN_SECONDS = 0.1
SETTLE_S = 0.03  # the first frames after an onset, where the previous note may still ring
LOOK_S = 0.25  # how far into the note presence is looked for
MIN_LOOK_S = 0.1
PAIR_S = 0.15  # an unexpected note starting this early, or during the absent one, replaced it
HARMONICS = (12, 19, 24)
SMOOTH_MS = 1500.0
STEP_MS = 350.0  # a map further than this from its line has a step (a pause, a skip)
SHIFTS_S = (-0.05, -0.025, 0.0, 0.025, 0.05)
MAX_ERRORS = 300
MAX_ROLL_NOTES = 4000
ROLL_MIN_AMPLITUDE = 0.3

KINDS = ("wrong_note", "missed_note", "extra_note")


@dataclass(frozen=True)
class Take:
    notes: list[Note]
    activation: np.ndarray  # (frames, 88) note activation
    times_s: np.ndarray  # each frame's time

    @classmethod
    def of(cls, notes: list[Note], output: dict) -> Take:
        activation = output["note"]
        return cls(notes, activation, nc.model_frames_to_time(activation.shape[0]))

    def _column(self, pitch: int) -> int | None:
        column = pitch - nc.MIDI_OFFSET
        return column if 0 <= column < self.activation.shape[1] else None

    def _frames(self, start_s: float, end_s: float) -> slice:
        low, high = np.searchsorted(self.times_s, [start_s, end_s])
        return slice(int(low), int(max(high, low + 1)))

    def sounding(self, pitch: int, at_s: float, length_s: float) -> float:
        """Mean activation at `pitch` over the first `length_s` after a (mapped) onset at
        `at_s`, leaving out its first frames, where the note before may still ring."""
        column = self._column(pitch)
        if column is None:
            return 0.0
        best = 0.0
        for shift in SHIFTS_S:  # the time map's own error
            start = at_s + shift
            window = self.activation[self._frames(start + SETTLE_S, start + length_s), column]
            if window.size:
                best = max(best, float(window.mean()))
        return best

    def sounding_near(self, pitch: int, at_s: float, length_s: float) -> float:
        """`sounding` at the pitch or an octave from it: the model reads a low note's octave
        differently through another microphone, so octave differences are not judged."""
        return max(self.sounding(pitch + octave, at_s, length_s) for octave in (0, -12, 12))

    def ghost(self, note: Note) -> bool:
        """A note that is likely a harmonic of a lower one sounding with it (an octave, a
        twelfth, two octaves below), which Basic Pitch sometimes writes as a note."""
        if note.amplitude >= GHOST_BELOW:
            return False
        frames = self._frames(note.start_s, note.start_s + 0.1)
        own = self._column(note.pitch)
        level = float(self.activation[frames, own].max()) if own is not None else 0.0
        for interval in HARMONICS:
            column = self._column(note.pitch - interval)
            if column is not None and self.activation[frames, column].max() >= level:
                return True
        return False


@dataclass(frozen=True)
class Comparison:
    errors: list[dict]
    demo_notes: int
    reply_notes: int
    roll: dict


def judged(note: Note) -> bool:
    """Clear enough to be reported on its own (low notes must be clearer: the bass register
    is where the model's reading differs most between two microphones)."""
    if note.pitch < LOWEST or note.end_s - note.start_s < MIN_SECONDS:
        return False
    return note.amplitude >= (MIN_AMPLITUDE if note.pitch >= BASS_BELOW else BASS_AMPLITUDE)


def smoothed(xs, ys):
    """The map read through a straight line fitted to its points within `SMOOTH_MS` of each
    time: a changed or added note pulls the DTW path towards the next note for a few hundred
    ms, which the line does not follow. Where the map has a step (a pause, a skip) the line
    would blur it: there, and at the edges, the map itself is read."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)

    def read(queries):
        queries = np.asarray(queries, dtype=np.float64)
        raw = timemap.interpolate(xs, ys, queries)
        out = raw.copy()
        for index, q in enumerate(queries):
            near = np.abs(xs - q) <= SMOOTH_MS
            if near.sum() < 5 or len(np.unique(xs[near])) < 3:
                continue
            slope, intercept = np.polyfit(xs[near], ys[near], 1)
            fitted = intercept + slope * xs[near]
            if np.abs(fitted - ys[near]).max() > STEP_MS or slope <= 0:
                continue
            out[index] = intercept + slope * q
        return out

    return read


def _unmatched(take: Take, other: Take, mapper, transposition: int, skip) -> list:
    """(note, mapped start_s, judged) for each of `take`'s notes the other take does not
    sound around the time it maps to; faint notes are kept (not judged) for pairing."""
    notes = [
        n
        for n in take.notes
        if n.amplitude >= PAIR_AMPLITUDE
        and n.end_s - n.start_s >= MIN_SECONDS
        and not _inside(n.start_s, skip)
    ]
    if not notes:
        return []
    mapped_s = mapper(np.array([n.start_s for n in notes]) * 1000.0) / 1000.0
    out = []
    for note, mapped in zip(notes, mapped_s, strict=True):
        look = max(MIN_LOOK_S, min(note.end_s - note.start_s, LOOK_S))
        if other.sounding_near(note.pitch + transposition, float(mapped), look) < PRESENT:
            out.append((note, float(mapped), judged(note) and not take.ghost(note)))
    return out


def _inside(at_s: float, spans: list[tuple[float, float]]) -> bool:
    return any(start <= at_s <= end for start, end in spans)


def compare(
    demo: Take,
    reply: Take,
    time_map: timemap.TimeMap,
    *,
    transposition: int = 0,
    skip_demo: list[tuple[float, float]] = (),
    skip_reply: list[tuple[float, float]] = (),
) -> Comparison:
    """Errors in demonstration time, each `{kind, at_ms, end_ms, reply_ms, reply_end_ms,
    pitch, note, played, played_note}` (`pitch`/`note` what the demonstration has, `played`
    what the reply has, in the reply's own key; missing on the side that has none)."""
    to_reply = smoothed(time_map.demo_ms, time_map.reply_ms)
    to_demo = smoothed(time_map.reply_ms, time_map.demo_ms)
    absent = _unmatched(demo, reply, to_reply, transposition, skip_demo)
    unexpected = _unmatched(reply, demo, to_demo, -transposition, skip_reply)

    # Pair the closest absent/unexpected notes first: each pair is one wrong note. The
    # demonstration's side must be a clear note; the reply's may be fainter (a wrong note
    # is often played or read softer than the one it replaces).
    candidates = sorted(
        (abs(d.start_s - mapped), i, j)
        for i, (d, _, _) in enumerate(absent)
        for j, (r, mapped, _) in enumerate(unexpected)
        if (d.start_s - PAIR_S <= mapped < max(d.end_s, d.start_s + PAIR_S))
    )
    paired_demo, paired_reply, errors = set(), set(), []
    for _, i, j in candidates:
        if i in paired_demo or j in paired_reply or not absent[i][2]:
            continue
        paired_demo.add(i)
        paired_reply.add(j)
        d, r = absent[i][0], unexpected[j][0]
        errors.append(_error("wrong_note", d.start_s, d.end_s, r.start_s, r.end_s, d, r))
    for i, (d, mapped, judged) in enumerate(absent):
        if i not in paired_demo and judged:
            length = d.end_s - d.start_s
            errors.append(
                _error("missed_note", d.start_s, d.end_s, mapped, mapped + length, d, None)
            )
    for j, (r, mapped, judged) in enumerate(unexpected):
        if j not in paired_reply and judged:
            length = r.end_s - r.start_s
            errors.append(
                _error("extra_note", mapped, mapped + length, r.start_s, r.end_s, None, r)
            )
    errors.sort(key=lambda e: (e["at_ms"], e["kind"], e.get("pitch", e.get("played", 0))))
    return Comparison(
        errors=errors[:MAX_ERRORS],
        demo_notes=len(demo.notes),
        reply_notes=len(reply.notes),
        roll=_roll(demo, reply, time_map, transposition),
    )


def _error(kind, at_s, end_s, reply_s, reply_end_s, expected: Note | None, played: Note | None):
    error = {
        "kind": kind,
        "at_ms": round(at_s * 1000),
        "end_ms": round(end_s * 1000),
        "reply_ms": round(reply_s * 1000),
        "reply_end_ms": round(reply_end_s * 1000),
    }
    if expected is not None:
        error["pitch"] = expected.pitch
        error["note"] = expected.name
    if played is not None:
        error["played"] = played.pitch
        error["played_note"] = played.name
    return error


def message(error: dict) -> str:
    if error["kind"] == "wrong_note":
        return f"{error['note']} played as {error['played_note']}."
    if error["kind"] == "missed_note":
        return f"{error['note']} not played."
    return f"{error['played_note']} played, not in the demonstration."


def _roll(demo: Take, reply: Take, time_map: timemap.TimeMap, transposition: int) -> dict:
    """Both takes' notes in demonstration time, the reply's drawn in the demonstration's key:
    `[start_ms, end_ms, pitch]` each."""

    def rows(notes: list[Note], mapper) -> list[list[int]]:
        kept = [n for n in notes if n.amplitude >= ROLL_MIN_AMPLITUDE][:MAX_ROLL_NOTES]
        if not kept:
            return []
        starts = mapper(np.array([n.start_s for n in kept]) * 1000.0)
        ends = mapper(np.array([n.end_s for n in kept]) * 1000.0)
        return [
            [round(float(s)), round(float(max(e, s + 30))), n.pitch]
            for n, s, e in zip(kept, starts, ends, strict=True)
        ]

    reply_rows = rows(reply.notes, time_map.demo_at)
    for row in reply_rows:
        row[2] -= transposition
    return {
        "demo": rows(demo.notes, lambda ms: ms),
        "reply": reply_rows,
        "transposition": transposition,
    }


def note_names(pitches) -> list[str]:
    return [note_name(int(p)) for p in pitches]
