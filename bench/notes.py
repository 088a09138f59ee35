"""Wrong, missed and extra notes (issue 14): precision and recall on pairs with planted note
errors, and the time the notes take for a 3-minute pair.

Pairs (tests/support/note_pairs.py): two generated 3-minute pieces (a melody played back on
strings, piano chords played back on piano) with one planted error every 6 s, and the
recordings in bench/recordings/ (30 s each) against tempo-curved copies with notes
pitch-shifted a semitone, cut or added. An error counts as found when one of the right kind
is reported within 100 ms of it.

    PYTHONPATH=platform:. .venv/bin/python bench/notes.py [--seconds 180] [--real-seconds 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import note_pairs as np_  # noqa: E402

RECORDINGS = ROOT / "bench" / "recordings"
TARGETS = {"precision": 0.9, "recall": 0.9, "time_s": 10.0}


def decode(path: Path):
    from learning.alignment.engine import notes

    return notes.decode(path, timeout_s=60)


def analyse(pair: np_.NotePair):
    from learning.alignment import engine
    from learning.alignment.engine import notes

    notes._recent.clear()  # each pair from scratch (a worker keeps its last demonstration's)
    started = time.perf_counter()
    result = engine.analyse(
        np_.engine_rate(pair.demo), np_.engine_rate(pair.reply), notes_audio=(pair.demo, pair.reply)
    )
    elapsed = time.perf_counter() - started
    errors = result.summary.get("piano_roll", {}).get("errors", []) if result.aligned else []
    return errors, elapsed, result.aligned


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--real-seconds", type=float, default=30.0)
    args = parser.parse_args()

    from learning.alignment.engine import notes, synthesis

    pairs = [
        np_.synthetic("synthetic melody, strings reply", seconds=args.seconds),
        np_.synthetic(
            "synthetic piano chords",
            seconds=args.seconds,
            texture="chords",
            reply_timbre=synthesis.PIANO,
            seed=7,
        ),
    ]
    for path in sorted(RECORDINGS.glob("*.ogg")):
        pairs.append(np_.real(path.stem, decode(path), seconds=args.real_seconds))

    # The time a 3-minute pair's notes take (both transcriptions and the comparison), in a
    # process that has loaded the model once, as a running worker has.
    first = time.perf_counter()
    notes.take(pairs[0].demo[: 5 * np_.RATE])
    load_s = time.perf_counter() - first
    from learning.alignment.engine import aligner, timemap

    demo, reply = pairs[0].demo, pairs[0].reply
    time_map = timemap.from_path(aligner.align(np_.engine_rate(demo), np_.engine_rate(reply)).path)
    started, cpu = time.perf_counter(), time.process_time()
    notes.feedback(demo, reply, time_map)
    notes_s = time.perf_counter() - started
    notes_cpu_s = time.process_time() - cpu
    pair_s = (len(demo) + len(reply)) / 2 / np_.RATE

    totals = {"reported": 0, "right": 0, "planted": 0, "recalled": 0}
    print(f"{'case':44} {'planted':>7} {'found':>5} {'reported':>8} {'right':>5}  analysis s")
    for pair in pairs:
        errors, elapsed, aligned = analyse(pair)
        score = np_.score(pair, errors)
        for key in totals:
            totals[key] += score[key]
        flag = "" if aligned else "  (not aligned)"
        print(
            f"{pair.name[:44]:44} {score['planted']:7d} {score['recalled']:5d} "
            f"{score['reported']:8d} {score['right']:5d}  {elapsed:6.1f}{flag}"
        )
        for error in errors:
            if not any(
                error["kind"] == p.kind and abs(error["at_ms"] / 1000 - p.at_s) <= 0.1
                for p in pair.planted + pair.unsure
            ):
                names = " -> ".join(error[k] for k in ("note", "played_note") if k in error)
                print(f"    reported, not planted: {error['kind']} at {error['at_ms']} ms {names}")
        for planted in pair.planted:
            if not any(
                e["kind"] == planted.kind and abs(e["at_ms"] / 1000 - planted.at_s) <= 0.1
                for e in errors
            ):
                print(f"    planted, not found: {planted.kind} at {planted.at_s * 1000:.0f} ms")
    precision = totals["right"] / totals["reported"] if totals["reported"] else 1.0
    recall = totals["recalled"] / totals["planted"] if totals["planted"] else 1.0
    print(
        f"model load {load_s:.2f} s; notes of a {pair_s:.0f} s pair: {notes_s:.2f} s "
        f"({notes_cpu_s:.2f} s of CPU; load average {os.getloadavg()[0]:.1f})"
    )
    print(f"BENCH notes_precision {precision:.3f} ratio")
    print(f"BENCH notes_recall {recall:.3f} ratio")
    print(f"BENCH notes_time_s {notes_s:.3f} s")
    met = precision >= TARGETS["precision"] and recall >= TARGETS["recall"]
    met = met and notes_s <= TARGETS["time_s"]
    print("targets met" if met else "targets missed: precision, recall >= 0.9; time <= 10 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
