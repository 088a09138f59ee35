"""Timing and pitch feedback read off an alignment: coloured bands for the compare timeline.

A band is `{kind, start_ms, end_ms, reply_start_ms, reply_end_ms, message}` with start/end
in demonstration time. Kinds:

* `rushed` / `dragged`: the local tempo (slope of the time map over a 1.5 s window) is more
  than 15 % faster or slower than the demonstration's for at least a second.
* `missing` / `extra`: the map runs flat for at least a second: the demonstration goes on
  while the reply does not (a skipped passage), or the reply goes on alone (an added
  passage, or a pause when the reply is silent there). Lead-in and trailing silence are not
  feedback.
* `repeat`: the reply plays a passage of the demonstration again (it went back): the band
  spans the repeated demonstration passage, its reply times the second playing. Found where
  the path stands still on the demonstration while the reply plays music that matches the
  demonstration just before (or just after) that point.
* `late_start` / `early_end`: the same kind of stretch where the piece begins or ends: the
  reply comes in late (a silence or sound before its first note of the piece) or stops
  before the demonstration does. Said as such, not as a pause or a missing passage.
* `flat` / `sharp`: for monophonic takes, the reply's pitch is 40-150 cents off the
  demonstration's (after any transposition) for at least half a second. Larger differences
  are a different note or a tracking slip, not intonation, and are left alone.

Advisory only: thresholds are deliberately loose so that a band means something audible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from . import dtw, features
from .aligner import Alignment
from .pitch import PitchTrack

FPS = features.FRAMES_PER_SECOND
TEMPO_THRESHOLD = 0.15
TEMPO_WINDOW_S = 1.5
TEMPO_MIN_S = 1.0
RUN_MIN_S = 1.0  # missing / extra
# A run at the very start of the path is the lead-in unless it holds this much sound (a
# false start: a late start after a passage not in the demonstration).
LEAD_IN_SOUND_S = 0.3
JOIN_MIN_STEPS = 10  # flat runs at least this long, a step or two apart, are one
# Shorter runs are DTW texture (a held chord lets the path wander for free), not structure;
# they stay in the map for the tempo analysis.
RUN_IGNORE_S = 0.75
# A stretch this close to the demonstration's first or last sounding frame is where the
# piece begins or ends: a late start or an early end.
EDGE_S = 0.5
# A reply-only run whose music matches the demonstration just before (or after) it, within
# this much of the path's own median cell cost, is a repeat.
REPEAT_MARGIN = 0.1
# An added and a missing passage this close together and this short are a detour of the
# path, not of the reply (see _without_detours).
DETOUR_NEAR_S = 0.5
DETOUR_MAX_S = 2.0
REPEAT_MIN_S = 1.0
REPEAT_JOIN_S = 0.75
REPEAT_STEP_FRAMES = 5  # compared at 10 frames per second
PITCH_THRESHOLD_CENTS = 40.0
PITCH_MAX_CENTS = 150.0
PITCH_MIN_S = 0.5
GRID_S = 0.05
ONSET_HEIGHT = 0.4  # onset strength is locally normalised: 1 at the strongest


@dataclass(frozen=True)
class Feedback:
    bands: list[dict]
    summary: dict


def _ms(frames) -> int:
    return round(float(frames) * 1000.0 / FPS)


def _band(kind, demo_start, demo_end, reply_start, reply_end, message) -> dict:
    return {
        "kind": kind,
        "start_ms": _ms(demo_start),
        "end_ms": _ms(demo_end),
        "reply_start_ms": _ms(reply_start),
        "reply_end_ms": _ms(reply_end),
        "message": message,
    }


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True stretches of `mask`."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _flat_runs(path: np.ndarray, axis: int) -> list[tuple[int, int]]:
    """Path index stretches where only `axis` moves (0: demonstration, 1: reply)."""
    steps = np.diff(path, axis=0)
    only = (steps[:, axis] == 1) & (steps[:, 1 - axis] == 0)
    # Runs a step or two apart are one: a jump of the path is spelled out as a run and a
    # diagonal step, and two jumps in a row (a false start, then silence) are one stretch.
    runs: list[tuple[int, int]] = []
    for start, end in _runs(only):
        long = end - start >= JOIN_MIN_STEPS
        if (
            runs
            and long
            and runs[-1][1] - runs[-1][0] >= JOIN_MIN_STEPS
            and start - runs[-1][1] <= 2
        ):
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return [(start, end) for start, end in runs if end - start >= RUN_IGNORE_S * FPS]


def _pause_bands(alignment: Alignment) -> tuple[list[dict], list[tuple[int, int]]]:
    """Silences of the reply, between its first and last notes, that the demonstration does
    not have (or has shorter). Found on the reply's own silence rather than on the path:
    inside a held note the path may start its vertical run anywhere."""
    path, silent = alignment.path, alignment.reply.silent
    sounding = np.flatnonzero(~silent)
    if len(sounding) == 0:
        return [], []
    bands, stretches = [], []
    for start, end in _runs(silent):
        if start <= sounding[0] or end > sounding[-1] or (end - start) < RUN_MIN_S * FPS:
            continue  # lead-in, ending, or a breath
        inside = np.flatnonzero((path[:, 1] >= start) & (path[:, 1] < end))
        if len(inside) == 0:
            continue
        first, last = int(inside[0]), int(inside[-1])
        # How long the demonstration itself rests there (not the path's span: across a
        # silence the path may drift along a held note at no extra cost).
        rows = np.arange(path[first, 0], path[last, 0] + 1)
        demo_rest = float(alignment.demo.silent[rows].sum()) / FPS
        pause = (end - start) / FPS
        if pause - demo_rest < RUN_MIN_S:
            continue
        stretches.append((first, last))
        # Before it, the reply's sound matched none of the demonstration's music: the piece
        # had not begun, so the reply comes in late rather than pausing.
        if path[first, 0] <= _demo_edges(alignment)[0] + 0.1 * FPS:
            message = f"The reply starts {pause - demo_rest:.1f} s late."
            bands.append(_band("late_start", path[first, 0], path[last, 0], start, end, message))
            continue
        if demo_rest < 0.25:
            message = f"The reply pauses for {pause:.1f} s here."
        else:
            message = f"The reply rests {pause - demo_rest:.1f} s longer than the demonstration."
        bands.append(_band("extra", path[first, 0], path[last, 0], start, end, message))
    return bands, stretches


def _demo_edges(alignment: Alignment) -> tuple[int, int]:
    """The demonstration's first and last sounding frames."""
    sounding = np.flatnonzero(~alignment.demo.silent)
    if len(sounding) == 0:
        return 0, alignment.demo.frames - 1
    return int(sounding[0]), int(sounding[-1])


def structure_bands(alignment: Alignment) -> tuple[list[dict], list[tuple[int, int, int]]]:
    """Pauses, missing and extra passages; and the path stretches to leave out of the tempo
    analysis as (start, end, axis), axis None for both sides."""
    path = alignment.path
    bands, stretches = _pause_bands(alignment)
    skips = [(first, last, None) for first, last in stretches]
    last = len(path) - 1
    for axis, kind in ((0, "missing"), (1, "extra")):
        side = alignment.demo if axis == 0 else alignment.reply
        for start, end in _flat_runs(path, axis):
            if any(first <= start and end <= stop for first, stop in stretches):
                continue  # part of a pause
            skips.append((start, end, axis))
            a, b = path[start], path[end]
            quiet = side.silent[path[start : end + 1, axis]].mean() > 0.8
            length_s = (b[axis] - a[axis]) / FPS
            sound_s = float((~side.silent[path[start : end + 1, axis]]).sum()) / FPS
            lead_in = start == 0 and sound_s < LEAD_IN_SOUND_S  # not a false start
            if length_s < RUN_MIN_S or quiet or lead_in or end == last:
                continue  # a rest kept shorter, silence, or a lead-in or ending
            first_note, last_note = _demo_edges(alignment)
            reply_sounding = np.flatnonzero(~alignment.reply.silent)
            reply_last = int(reply_sounding[-1]) if len(reply_sounding) else alignment.reply.frames
            at_start = a[0] <= first_note + EDGE_S * FPS
            # Ending: nothing of the demonstration's music after the run, or nothing more of
            # the reply's (it stopped while the demonstration went on).
            at_end = b[0] >= last_note - EDGE_S * FPS or b[1] >= reply_last - EDGE_S * FPS
            if axis == 0 and at_end:
                # From where the reply stopped to the demonstration's last sound (a run
                # that jumps to the path's end also crosses the trailing silence).
                end_row = max(last_note, a[0])
                early_s = (end_row - a[0]) / FPS
                message = f"The reply ends {early_s:.1f} s early."
                bands.append(_band("early_end", a[0], end_row, a[1], b[1], message))
                continue
            elif axis == 0 and at_start:
                kind_here = "late_start"
                message = f"The reply starts {length_s:.1f} s into the demonstration."
            elif axis == 1 and at_start:
                kind_here = "late_start"
                message = (
                    f"The reply starts {length_s:.1f} s late, after a passage that is not in "
                    "the demonstration."
                )
            elif axis == 0:
                kind_here = kind
                message = f"{length_s:.1f} s of the demonstration are missing here."
            elif repeated := _repeated_passage(alignment, a[0], a[1], b[1]):
                first, last = repeated
                message = _repeat_message(first / FPS, last / FPS)
                bands.append(_band("repeat", first, last, a[1], b[1], message))
                continue
            else:
                kind_here = kind
                message = f"The reply plays {length_s:.1f} s that are not in the demonstration."
            bands.append(_band(kind_here, a[0], b[0], a[1], b[1], message))
    return _without_detours(_merged_repeats(bands)), skips


def _without_detours(bands: list[dict]) -> list[dict]:
    """A short passage "not in the demonstration" next to a short one "missing" is the path
    going round a corner where the two takes' notes start differently (a piano against an
    organ), not a change of structure: neither is said."""

    def length_s(band) -> float:
        if band["kind"] == "missing":
            return (band["end_ms"] - band["start_ms"]) / 1000
        return (band["reply_end_ms"] - band["reply_start_ms"]) / 1000

    extras = [b for b in bands if b["kind"] == "extra" and "not in the" in b["message"]]
    missing = [b for b in bands if b["kind"] == "missing"]
    dropped = set()
    for extra in extras:
        for gap in missing:
            near = min(
                abs(gap["start_ms"] - extra["start_ms"]), abs(gap["end_ms"] - extra["start_ms"])
            )
            if near <= DETOUR_NEAR_S * 1000 and max(length_s(extra), length_s(gap)) <= (
                DETOUR_MAX_S
            ):
                dropped |= {id(extra), id(gap)}
    return [b for b in bands if id(b) not in dropped]


def _repeat_message(start_s: float, end_s: float) -> str:
    return (
        f"The reply goes back and plays the demonstration's {start_s:.1f} s to {end_s:.1f} s "
        "again here."
    )


def _merged_repeats(bands: list[dict]) -> list[dict]:
    """One band for one repeat: the path may cross it in a few runs (held notes between)."""
    merged: list[dict] = []
    for band in sorted(bands, key=lambda b: (b["kind"] != "repeat", b["reply_start_ms"])):
        last = merged[-1] if merged else None
        if (
            band["kind"] == "repeat"
            and last is not None
            and last["kind"] == "repeat"
            and band["reply_start_ms"] - last["reply_end_ms"] <= REPEAT_JOIN_S * 1000
        ):
            start = min(last["start_ms"], band["start_ms"])
            end = max(last["end_ms"], band["end_ms"])
            message = _repeat_message(start / 1000, end / 1000)
            merged[-1] = {
                **last, "start_ms": start, "end_ms": end,
                "reply_end_ms": band["reply_end_ms"], "message": message,
            }
            continue
        merged.append(band)
    return merged


def _repeated_passage(alignment: Alignment, row: int, reply_start: int, reply_end: int):
    """The demonstration frames (first, last) that the reply's frames reply_start..reply_end
    play again, where the path stands still at `row` across them; None when they match no
    passage of the demonstration around `row` about as well as the path's own music matches
    (an added passage, an improvisation).

    Subsequence DTW of those reply frames against the demonstration from 2.5 times their
    length before `row` to as far after it: a row of free cells before and after the reply
    frames lets the path start and end anywhere in the demonstration."""
    demo, reply = alignment.demo, alignment.reply
    if reply.silent[reply_start : reply_end + 1].mean() > 0.5:
        return None
    every = REPEAT_STEP_FRAMES
    reply_chroma = features.transpose(reply.chroma, alignment.transposition % 12)
    played = reply_chroma[reply_start : reply_end + 1 : every]
    reach = int(2.5 * (reply_end - reply_start))
    low, high = max(0, row - reach), min(demo.frames, row + reach + 1)
    region = demo.chroma[low:high:every]
    if len(played) < 2 or len(region) < 2:
        return None
    cost = np.zeros((len(played) + 2, len(region)))
    cost[1:-1] = 1.0 - played @ region.T
    total, path = dtw.full(cost)
    inside = path[(path[:, 0] > 0) & (path[:, 0] <= len(played))]
    mean_cost = total / len(inside)
    # What matching music costs on this pair: the path's own cells, at the same rate.
    cells = alignment.path[::every]
    matching = np.sum(demo.chroma[cells[:, 0]] * reply_chroma[cells[:, 1]], axis=1)
    reference = float(np.median(1.0 - matching))
    first = low + int(inside[0, 1]) * every
    last = low + int(inside[-1, 1]) * every
    if mean_cost > reference + REPEAT_MARGIN or (last - first) < REPEAT_MIN_S * FPS:
        return None
    return first, last


def _peaks(x: np.ndarray, *, height: float, distance: int) -> np.ndarray:
    """Local maxima at least `height` high, the higher first where two are closer than
    `distance` (scipy.signal.find_peaks with those two arguments; scipy.signal itself costs
    a worker a third of a second to import)."""
    if len(x) < 3:
        return np.zeros(0, dtype=np.int64)
    # A plateau counts once, at its middle, as find_peaks has it.
    change = np.flatnonzero(np.diff(x) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(x)]]) - 1
    values = x[starts]
    rising = np.concatenate([[False], values[1:] > values[:-1]])
    falling = np.concatenate([values[:-1] > values[1:], [False]])
    chosen = rising & falling & (values >= height)
    peaks = ((starts[chosen] + ends[chosen]) // 2).astype(np.int64)
    keep = np.ones(len(peaks), dtype=bool)
    for index in np.argsort(x[peaks])[::-1]:  # find_peaks's order, ties included
        if keep[index]:
            near = np.abs(peaks - peaks[index]) < distance
            near[index] = False
            keep[near] = False
    return peaks[keep]


def _onset_frames(alignment: Alignment, demo_rows: np.ndarray) -> np.ndarray:
    """Indices into `demo_rows` that are note onsets of the demonstration. Not the ends of
    the path: how long the last note rings out is not tempo."""
    strength = np.linalg.norm(alignment.demo.onsets[:, :12], axis=1)
    peaks = _peaks(strength, height=ONSET_HEIGHT, distance=3)
    is_onset = np.zeros(alignment.demo.frames, dtype=bool)
    is_onset[peaks] = True
    chosen = np.flatnonzero(is_onset[demo_rows])
    return chosen


def tempo_bands(alignment: Alignment, skips) -> tuple[list[dict], float | None]:
    """Rushed and dragged passages; also the overall tempo ratio (reply / demonstration)."""
    path = alignment.path.astype(np.float64)
    # Take the flat runs out of the map, so that a pause is not read as a slow passage.
    steps = np.diff(path, axis=0)
    for start, end, axis in skips:
        if axis is None:
            steps[start:end] = 0
        else:
            steps[start:end, axis] = 0
    clean = np.concatenate([path[:1], path[:1] + np.cumsum(steps, axis=0)])
    demo_clean, reply_clean = clean[:, 0], clean[:, 1]
    sounding = ~alignment.demo.silent[alignment.path[:, 0]]
    if sounding.sum() < 2 * FPS:
        return [], None
    # One value per demonstration frame (the middle of the row)...
    frames, first = np.unique(demo_clean, return_index=True)
    last = np.concatenate([first[1:] - 1, [len(demo_clean) - 1]])
    reply_mid = (reply_clean[first] + reply_clean[last]) / 2
    # ...read only at the demonstration's note onsets: while notes are held the path may
    # wander freely at no cost, and that wandering is not tempo.
    anchors = _onset_frames(alignment, path[first, 0].astype(int))
    if len(anchors) < 2:
        return [], None
    frames, reply_mid = frames[anchors], reply_mid[anchors]
    grid = np.arange(frames[0], frames[-1] + 1e-9, GRID_S * FPS)
    half = TEMPO_WINDOW_S * FPS / 2
    ahead = np.interp(grid + half, frames, reply_mid)
    behind = np.interp(grid - half, frames, reply_mid)
    span = np.minimum(grid + half, frames[-1]) - np.maximum(grid - half, frames[0])
    slope = (ahead - behind) / np.maximum(span, 1.0)
    valid = span >= half  # near the ends the window is cut short
    # Where the demonstration is silent there is no tempo to compare.
    demo_at = np.interp(grid, demo_clean, path[:, 0]).astype(int)
    valid &= ~alignment.demo.silent[np.clip(demo_at, 0, alignment.demo.frames - 1)]
    # Right around a pause the window straddles it: the tempo there is not meaningful.
    for start, end, axis in skips:
        if axis is None:
            valid &= (grid < demo_clean[start] - half) | (grid > demo_clean[end] + half)
    # The overall tempo is the map's own slope over the piece: the mean of the local slopes
    # on an even grid of demonstration time is the reply time the map spends per second of
    # demonstration, pauses and skipped passages left out. Not their median: a reply 12 %
    # faster for a third of the piece is about 4 % faster overall, as the map says.
    overall = float(np.mean(slope[valid])) if valid.any() else None
    bands = []
    for kind, mask in (
        ("rushed", valid & (slope < 1 / (1 + TEMPO_THRESHOLD))),
        ("dragged", valid & (slope > 1 + TEMPO_THRESHOLD)),
    ):
        for start, end in _runs(mask):
            if (end - start) * GRID_S < TEMPO_MIN_S:
                continue
            local = float(np.median(slope[start:end]))
            percent = round(abs(1 / local - 1) * 100)
            a0, a1 = np.interp(grid[[start, end - 1]], demo_clean, path[:, 0])
            r0, r1 = np.interp(grid[[start, end - 1]], frames, reply_mid)
            r0, r1 = np.interp([r0, r1], reply_clean, path[:, 1])
            word = "faster" if kind == "rushed" else "slower"
            message = f"About {percent} % {word} than the demonstration here."
            bands.append(_band(kind, a0, a1, r0, r1, message))
    return bands, overall


def pitch_bands(
    alignment: Alignment, demo_pitch: PitchTrack, reply_pitch: PitchTrack
) -> tuple[list[dict], float | None]:
    """Flat and sharp passages along the map; also the median absolute deviation in cents."""
    path = alignment.path
    demo_cents = demo_pitch.cents[path[:, 0]]
    reply_cents = reply_pitch.cents[path[:, 1]] - 100.0 * alignment.transposition
    deviation = (reply_cents - demo_cents + 600.0) % 1200.0 - 600.0  # octave slips fold away
    compared = ~np.isnan(deviation)
    if compared.sum() < FPS:
        return [], None
    filled = np.where(compared, deviation, 0.0)
    smooth = scipy.ndimage.median_filter(filled, size=int(0.2 * FPS) | 1, mode="nearest")
    in_range = compared & (np.abs(smooth) <= PITCH_MAX_CENTS)
    bands = []
    for kind, mask in (
        ("flat", in_range & (smooth <= -PITCH_THRESHOLD_CENTS)),
        ("sharp", in_range & (smooth >= PITCH_THRESHOLD_CENTS)),
    ):
        # Bridge unvoiced gaps (note changes) shorter than 0.15 s inside a passage.
        bridged = scipy.ndimage.binary_closing(mask, structure=np.ones(int(0.15 * FPS)))
        for start, end in _runs(bridged):
            a, b = path[start], path[end - 1]
            if (b[0] - a[0]) / FPS < PITCH_MIN_S:
                continue
            cents = float(np.median(smooth[start:end][mask[start:end]]))
            word = "flat" if kind == "flat" else "sharp"
            message = f"About {abs(round(cents))} cents {word} here."
            bands.append(_band(kind, a[0], b[0], a[1], b[1], message))
    median_abs = float(np.median(np.abs(smooth[in_range]))) if in_range.any() else None
    return bands, median_abs


def analyse(
    alignment: Alignment,
    *,
    demo_pitch: PitchTrack | None = None,
    reply_pitch: PitchTrack | None = None,
) -> Feedback:
    """Every band, sorted by demonstration time, and a summary for the teacher."""
    structure, skips = structure_bands(alignment)
    tempo, overall = tempo_bands(alignment, skips)
    pitch_checked = bool(
        demo_pitch and reply_pitch and demo_pitch.monophonic and reply_pitch.monophonic
    )
    pitch, median_cents = (
        pitch_bands(alignment, demo_pitch, reply_pitch) if pitch_checked else ([], None)
    )
    bands = sorted(structure + tempo + pitch, key=lambda band: (band["start_ms"], band["kind"]))
    sounding_ms = float((~alignment.demo.silent).sum()) * 1000.0 / FPS or 1.0

    def share(kinds) -> float:
        covered = sum(b["end_ms"] - b["start_ms"] for b in bands if b["kind"] in kinds)
        return round(min(covered / sounding_ms, 1.0), 3)

    summary = {
        "tempo_ratio": round(1 / overall, 3) if overall else None,
        "timing_flagged_share": share(
            {"rushed", "dragged", "missing", "extra", "repeat", "late_start", "early_end"}
        ),
        "pitch_checked": pitch_checked,
        "pitch_flagged_share": share({"flat", "sharp"}) if pitch_checked else None,
        "median_abs_cents": round(median_cents, 1) if median_cents is not None else None,
        "counts": {
            kind: sum(b["kind"] == kind for b in bands)
            for kind in (
                "rushed",
                "dragged",
                "missing",
                "extra",
                "repeat",
                "late_start",
                "early_end",
                "flat",
                "sharp",
            )
        },
    }
    return Feedback(bands=bands, summary=summary)
