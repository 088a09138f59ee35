"""Pairs with planted wrong, missed and extra notes, for bench/notes.py and
tests/learning/test_alignment_notes.py.

*Synthetic*: a generated score (engine.synthesis); the reply plays it through a tempo warp
with some notes changed (wrong pitch), left out (missed) or added (extra). The truth is each
planted error's kind and its demonstration time.

*Real*: a recording is the demonstration; the reply is a copy played through a tempo curve
(tests/support/real_pairs.py, whose segments are the time map), then changed at chosen notes:
a stretch of the reply pitch-shifted by a semitone (wrong), silenced (missed), or a tone added
(extra). The notes chosen start where nothing sounded just before them (Basic Pitch's
activations of the demonstration), so a change there is that note's and no other's.

Audio at 22,050 Hz (the note model's rate); `engine_rate` gives the alignment's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.signal

from learning.alignment.engine import features, synthesis
from tests.support import real_pairs as rp

RATE = 22_050
DEMO_LEAD_IN_S = 0.5  # make_pair's demonstration starts after 0.5 s


@dataclass(frozen=True)
class Planted:
    kind: str  # wrong_note / missed_note / extra_note
    at_s: float  # demonstration time


@dataclass(frozen=True)
class NotePair:
    name: str
    demo: np.ndarray = field(repr=False)
    reply: np.ndarray = field(repr=False)
    planted: tuple[Planted, ...]
    # Notes a change only partly covers (it ends within their first 0.25 s): a report of
    # them is neither right nor wrong.
    unsure: tuple[Planted, ...] = ()


def engine_rate(samples: np.ndarray) -> np.ndarray:
    return scipy.signal.resample_poly(samples, features.SAMPLE_RATE, RATE).astype(np.float32)


# --- Synthetic ----------------------------------------------------------------------------------


KINDS = ("wrong_note", "missed_note", "extra_note")


def plant(
    notes: list[synthesis.Note],
    *,
    every_s: float = 6.0,
    seed: int = 0,
    first_s: float = 2.0,
    kinds: tuple[str, ...] = KINDS,
) -> tuple[list[synthesis.Note], list[Planted]]:
    """The score with one error every `every_s` seconds, cycling through `kinds`."""
    if not kinds:
        return list(notes), []
    rng = np.random.default_rng(seed)
    planted = []
    target = first_s
    index = 0
    edits: dict[int, list[synthesis.Note] | None] = {}
    for position, note in enumerate(notes):
        if note.start_s < target or position in edits or position == len(notes) - 1:
            continue
        previous = notes[position - 1].pitches if position else ()
        following = notes[position + 1].pitches
        kind = kinds[index % len(kinds)]
        chord = len(note.pitches) > 1
        # Nothing a transcription cannot tell apart: no repeated pitch next to the change,
        # no added or changed note an octave or a twelfth from one sounding with it.
        near = set(previous) | set(following)
        related = {q + i for q in note.pitches for i in (-24, -19, -12, 0, 12, 19, 24)}
        if any(p in near for p in note.pitches):
            continue
        at = note.start_s + DEMO_LEAD_IN_S
        if kind == "wrong_note":
            step = int(rng.choice([-2, -1, 1, 2]))
            changed = note.pitches[-1] + step
            if changed in near or changed in related:
                continue
            edits[position] = [
                synthesis.Note(note.start_s, note.duration_s, (*note.pitches[:-1], changed))
            ]
        elif kind == "missed_note":
            if chord:  # one note of the chord left out
                edits[position] = [synthesis.Note(note.start_s, note.duration_s, note.pitches[:-1])]
            else:
                edits[position] = []
        else:
            if chord:  # a note added to the chord, a sixth above its top
                extra = note.pitches[-1] + 9
                if extra in near or extra in related:
                    continue
                edits[position] = [
                    synthesis.Note(note.start_s, note.duration_s, (*note.pitches, extra))
                ]
            else:  # the note's second half played at another pitch
                if note.duration_s < 0.4:
                    continue
                extra = note.pitches[0] + int(rng.choice([3, 4, 5]))
                if extra in near:
                    continue
                half = note.duration_s / 2
                edits[position] = [
                    synthesis.Note(note.start_s, half, note.pitches),
                    synthesis.Note(note.start_s + half, half, (extra,)),
                ]
                at += half
        planted.append(Planted(kind, at))
        index += 1
        target = note.start_s + every_s
    out = []
    for position, note in enumerate(notes):
        out.extend(edits.get(position, [note]))
    return out, planted


def synthetic(
    name: str,
    *,
    seconds: float,
    texture: str = "melody",
    seed: int = 5,
    every_s: float = 6.0,
    reply_timbre: synthesis.Timbre = synthesis.STRINGS,
    snr_db: float = 30.0,
    depth: float = 0.1,
    kinds: tuple[str, ...] = KINDS,
    transpose: int = 0,
) -> NotePair:
    score = (
        synthesis.melody(duration_s=seconds, seed=seed)
        if texture == "melody"
        else synthesis.chords(duration_s=seconds, seed=seed)
    )
    played, planted = plant(score, every_s=every_s, seed=seed, kinds=kinds)
    warp = synthesis.varying(duration_s=seconds, delay_s=1.0, depth=depth, period_s=20.0)
    pair = synthesis.make_pair(
        name,
        notes=score,
        reply_notes=played,
        warp=warp,
        reply_timbre=reply_timbre,
        snr_db=snr_db,
        transpose=transpose,
        sample_rate=RATE,
    )
    return NotePair(name, pair.demo, pair.reply, tuple(planted))


# --- Real recordings ---------------------------------------------------------------------------


def clean_onsets(
    demo: np.ndarray, *, min_amplitude: float = 0.45
) -> list[tuple[float, float, int]]:
    """(start_s, end_s, pitch) of clear demonstration notes (Basic Pitch's reading) that start
    where no other pitch sounded strongly in the 0.15 s before (the note's own may: a
    repeated note) and where no other note starts in the 0.4 s after (a chord's notes, starting
    with it, may)."""
    from learning.alignment.engine.notes import note_creation as nc
    from learning.alignment.engine.notes import transcribe

    notes, output = transcribe.transcribe(demo)
    times = nc.model_frames_to_time(output["note"].shape[0])
    activation = output["note"]
    chosen = []
    for note in notes:
        if note.amplitude < min_amplitude or note.end_s - note.start_s < 0.15:
            continue
        low, high = np.searchsorted(times, [note.start_s - 0.15, note.start_s - 0.02])
        before = activation[low:high].copy()
        column = note.pitch - nc.MIDI_OFFSET
        before[:, max(0, column - 1) : column + 2] = 0
        if high <= low or before.max() > 0.35:
            continue
        chosen.append((note.start_s, note.end_s, note.pitch))
    return chosen


def _demo_at(truth: rp.Truth, reply_s: float) -> float:
    for segment in truth.segments:
        end = segment.reply_at(segment.demo_end_s)
        if segment.reply_start_s <= reply_s < end:
            return segment.demo_start_s + (reply_s - segment.reply_start_s) * segment.speed
    raise ValueError(reply_s)


def _splice(reply: np.ndarray, source: np.ndarray, start_s: float, end_s: float) -> None:
    """reply[start:end] replaced by source[start:end], with 5 ms cross-fades."""
    a, b = round(start_s * RATE), min(round(end_s * RATE), len(reply))
    fade = int(0.005 * RATE)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    mix = np.ones(b - a, dtype=np.float32)
    mix[:fade] = ramp
    mix[-fade:] = ramp[::-1]
    reply[a:b] = reply[a:b] * (1 - mix) + source[a:b] * mix


def real(
    name: str,
    recording: np.ndarray,
    *,
    seconds: float = 30.0,
    every_s: float = 3.0,
    depth: float = 0.1,
    seed: int = 3,
) -> NotePair:
    """A recording against a tempo-curved copy of itself with planted note errors: in turn a
    stretch pitch-shifted a semitone up (every clear note starting in it is wrong; only where
    nothing else rang just before, so no held note changes pitch mid-way), a stretch silenced
    (every clear note starting in it is missed) and a piano tone a tritone above a note (extra).
    A stretch runs from a note's start to just before the first note 0.25 s or more later
    (0.6 s at most)."""
    from learning.alignment.engine.notes import compare, transcribe

    demo = recording[: int(seconds * RATE)].copy()
    length = len(demo) / RATE
    reply, truth = rp.play(demo, rp.tempo_curve(0.0, length, depth=depth, period_s=14.0))
    reply = reply.copy()
    shifted = rp.transpose(reply, 1)
    notes, _ = transcribe.transcribe(demo)
    clear = [n for n in notes if compare.judged(n)]  # the notes the comparison judges
    starts = np.array([n.start_s for n in notes])
    clean = {round(start, 4) for start, _, _ in clean_onsets(demo)}
    rng = np.random.default_rng(seed)
    planted, unsure, kinds = [], [], ("wrong_note", "missed_note", "extra_note")
    target, index = 1.5, 0
    for note in clear:
        start = note.start_s
        if start < target or start > length - 1.5:
            continue
        kind = kinds[index % 3]
        if kind == "wrong_note" and round(start, 4) not in clean:
            index += 1  # a semitone shift here would change a held note too: plant the next kind
            kind = kinds[index % 3]
        later = starts[starts >= start + 0.25]
        end = min(float(later.min()) - 0.03 if len(later) else start + 0.6, start + 0.6)
        r0, r1 = truth.reply_times(start - 0.02), truth.reply_times(end)
        if len(r0) != 1 or len(r1) != 1:
            continue
        r0, r1 = r0[0], r1[0]
        if kind in ("wrong_note", "missed_note"):
            _splice(reply, shifted if kind == "wrong_note" else np.zeros_like(reply), r0, r1)
            planted += [
                Planted(kind, n.start_s) for n in clear if start - 0.01 <= n.start_s < end - 0.25
            ]
            unsure += [Planted(kind, n.start_s) for n in clear if end - 0.25 <= n.start_s < end]
        else:
            tone = synthesis.render(
                [synthesis.Note(0.0, 0.35, (note.pitch + 6,))],
                warp=synthesis.steady(duration_s=1.0, lead_in_s=0.0),
                timbre=synthesis.PIANO,
                tail_s=0.1,
                sample_rate=RATE,
            )
            a, b = round(r0 * RATE), round(r1 * RATE)
            level = float(np.sqrt(np.mean(reply[a:b] ** 2)) + 1e-4)
            tone *= 1.5 * level / float(np.sqrt(np.mean(tone**2)) + 1e-9)
            at = round((r0 + 0.12 + 0.05 * rng.random()) * RATE)
            reply[at : at + len(tone)] += tone[: len(reply) - at]
            planted.append(Planted(kind, _demo_at(truth, at / RATE)))
        index += 1
        target = start + every_s
    return NotePair(name, demo, reply.astype(np.float32), tuple(planted), tuple(unsure))


# --- Scoring ------------------------------------------------------------------------------------


def score(pair: NotePair, found: list[dict], *, within_s: float = 0.1) -> dict:
    """Precision (reported errors that are a planted one: right kind, within `within_s`) and
    recall (planted errors reported so). Reports of an unsure note are left out of both."""

    def hit(p: Planted, error: dict) -> bool:
        return error["kind"] == p.kind and abs(error["at_ms"] / 1000 - p.at_s) <= within_s

    counted = [
        e
        for e in found
        if any(hit(p, e) for p in pair.planted) or not any(hit(p, e) for p in pair.unsure)
    ]
    right = sum(any(hit(p, e) for p in pair.planted) for e in counted)
    recalled = sum(any(hit(p, e) for e in found) for p in pair.planted)
    return {
        "reported": len(counted),
        "right": right,
        "planted": len(pair.planted),
        "recalled": recalled,
        "precision": right / len(counted) if counted else 1.0,
        "recall": recalled / len(pair.planted) if pair.planted else 1.0,
    }


def write_wav(samples: np.ndarray, path) -> object:
    """16-bit mono PCM at RATE (for the pipeline: an upload the browser tests process)."""
    import wave

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path
