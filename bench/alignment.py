"""Benchmark: music-aware alignment of a reply to a demonstration (issue 6).

Generates 3-minute pairs with a known time map (synthesized melodies and chord sequences
with harmonics; the reply with a tempo varying ±20 % through the piece, a late start of up
to 10 s, a pause of 2 to 3 s, another timbre, noise at 20 dB SNR, one with 15 % of its
notes a semitone or a tone wrong, and one transposed by a whole tone),
and measures for each pair, beside the plain chroma + full DTW baseline in librosa
(22,050 Hz, hop 512) run on the same audio:

* time: the alignment (features from decoded samples, multi-resolution DTW, time map) in
  a warm worker process (numba's compiled kernels already loaded, as in a Celery worker;
  `feedback_s` adds the pitch tracks and the bands);
* peak memory: in a fresh process per case and method, the peak resident set during the
  call (VmHWM, reset just before it) minus the resident set before it: what the analysis
  adds to a worker. tracemalloc would see numpy's buffers but not numba's or the FFT's,
  and the whole process would also count Python, numpy and librosa themselves (the
  `process` figure in the comment lines, the same for both methods);
* error: |predicted - true| reply time at every note onset of the demonstration (the
  moments at which "the same musical moment" is defined), median and 95th percentile.

Prints `BENCH <name> <value> <unit>` lines: per case and method, then the totals
`align_time_s` and `align_peak_mb` (worst case), `align_err_p50_ms` and `align_err_p95_ms`
(all onsets of all cases). Targets on 2 cores: ≤ 1.0 s, ≤ 300 MB, ≤ 30 ms, ≤ 100 ms.

    .venv/bin/python bench/alignment.py [--seconds 180] [--baseline all|first|none]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.signal

# Run as a script from the repository root: make `learning` importable like pytest does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning.alignment.engine import synthesis

TARGETS = {"time_s": 1.0, "peak_mb": 300.0, "p50_ms": 30.0, "p95_ms": 100.0}
# The pairs are made at the baseline's rate; ours gets them at its own rate, as ffmpeg
# hands them over when it decodes a recording (the resampling is not timed).
BASELINE_RATE = 22_050
BASELINE_HOP = 512


def wrong_notes(notes: list[synthesis.Note], *, share: float, seed: int = 4):
    """The same melody with `share` of its notes played a semitone or a tone off."""
    rng = np.random.default_rng(seed)
    return [
        synthesis.Note(
            n.start_s, n.duration_s,
            tuple(p + int(rng.choice([-2, -1, 1, 2])) for p in n.pitches),
        )
        if rng.random() < share
        else n
        for n in notes
    ]


def make_cases(seconds: float) -> dict[str, synthesis.Pair]:
    s = synthesis
    rate = {"sample_rate": BASELINE_RATE}
    melody = s.melody(duration_s=seconds, seed=1)
    chords = s.chords(duration_s=seconds, seed=2)
    melody_b = s.melody(duration_s=seconds, seed=3, low=60, high=84)
    return {
        "melody_steady": s.make_pair(
            "melody_steady", notes=melody,
            warp=s.varying(duration_s=seconds, delay_s=2.0), reply_timbre=s.CLARINET, **rate,
        ),
        "melody_varied": s.make_pair(
            "melody_varied", notes=melody,
            warp=s.varying(
                duration_s=seconds, delay_s=4.0, depth=0.2, period_s=seconds / 4,
                pause=(s.note_start_near(melody, seconds / 2), 2.0),
            ),
            reply_timbre=s.STRINGS, seed=10, **rate,
        ),
        "chords_varied": s.make_pair(
            "chords_varied", notes=chords,
            warp=s.varying(
                duration_s=seconds, delay_s=10.0, depth=0.2, period_s=seconds / 3, phase=1.0,
                pause=(s.note_start_near(chords, seconds / 3), 3.0),
            ),
            demo_timbre=s.PIANO, reply_timbre=s.ORGAN, seed=20, **rate,
        ),
        "melody_wrong_notes": s.make_pair(
            "melody_wrong_notes", notes=melody, reply_notes=wrong_notes(melody, share=0.15),
            warp=s.varying(
                duration_s=seconds, delay_s=3.0, depth=0.15, period_s=seconds / 5,
                pause=(s.note_start_near(melody, seconds / 4), 2.5),
            ),
            reply_timbre=s.CLARINET, seed=40, **rate,
        ),
        "melody_transposed": s.make_pair(
            "melody_transposed", notes=melody_b,
            warp=s.varying(
                duration_s=seconds, delay_s=7.0, depth=0.2, period_s=seconds / 6, phase=2.0,
                pause=(s.note_start_near(melody_b, 2 * seconds / 3), 2.0),
            ),
            demo_timbre=s.STRINGS, reply_timbre=s.PIANO, transpose=2, seed=30, **rate,
        ),
    }


# --- One measurement, in a fresh process ------------------------------------------------------


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def _rss_mb() -> float:
    """The resident set now, after resetting the peak (Linux: writing 5 to clear_refs), so
    that loading and resampling the pair do not count towards the method's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # the peak then also covers loading the pair: an overestimate
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    try:
        return _status_mb("VmHWM")
    except (OSError, LookupError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours(demo, reply, warm):
    from learning.alignment import engine
    from learning.alignment.engine import aligner, timemap

    aligner.align(warm, warm)  # load numba's compiled kernels, as a running worker has them
    before = _rss_mb()
    started = time.perf_counter()
    alignment = aligner.align(demo, reply)
    time_map = timemap.from_path(alignment.path)
    elapsed = time.perf_counter() - started
    process = _peak_mb()
    peak = process - before
    started = time.perf_counter()
    result = engine.analyse(demo, reply)
    full = time.perf_counter() - started
    return {
        "time_s": elapsed, "peak_mb": peak, "process_mb": process, "demo_ms": time_map.demo_ms,
        "reply_ms": time_map.reply_ms, "confidence": alignment.confidence,
        "transposition": alignment.transposition, "trusted": alignment.trustworthy,
        "analyse_s": full, "bands": len(result.bands),
    }


def _baseline(demo, reply, warm):
    import librosa

    sr = BASELINE_RATE

    def chroma(y):
        return librosa.feature.chroma_stft(y=y, sr=sr, hop_length=BASELINE_HOP) + 1e-6

    librosa.sequence.dtw(chroma(warm), chroma(warm), metric="cosine")  # compile numba
    before = _rss_mb()
    started = time.perf_counter()
    _, path = librosa.sequence.dtw(chroma(demo), chroma(reply), metric="cosine")
    elapsed = time.perf_counter() - started
    process = _peak_mb()
    peak = process - before
    path = path[::-1] * (1000.0 * BASELINE_HOP / sr)
    return {
        "time_s": elapsed, "peak_mb": peak, "process_mb": process,
        "demo_ms": path[:, 0].tolist(), "reply_ms": path[:, 1].tolist(),
    }


def measure(pair_file: str, method: str) -> None:
    data = np.load(pair_file)
    demo, reply = data["demo"], data["reply"]
    if method == "ours":
        demo, reply = (
            scipy.signal.resample_poly(x, synthesis.SAMPLE_RATE, BASELINE_RATE).astype(np.float32)
            for x in (demo, reply)
        )
    warm = np.ascontiguousarray(demo[: 5 * synthesis.SAMPLE_RATE])
    print(json.dumps((_ours if method == "ours" else _baseline)(demo, reply, warm)))


# --- The run ----------------------------------------------------------------------------------


def run_case(pair: synthesis.Pair, method: str, directory: Path) -> dict:
    pair_file = directory / f"{pair.name}.npz"
    if not pair_file.exists():
        np.savez(pair_file, demo=pair.demo, reply=pair.reply)
    completed = subprocess.run(
        [sys.executable, __file__, "--measure", str(pair_file), method],
        capture_output=True, text=True, check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    from learning.alignment.engine.timemap import interpolate

    predicted = interpolate(result["demo_ms"], result["reply_ms"], pair.demo_onsets_s * 1000)
    result["errors"] = np.abs(predicted - pair.reply_onsets_s * 1000)
    return result


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.3f} {unit}" if unit == "s" else f"BENCH {name} {value:.0f} {unit}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--baseline", choices=["all", "first", "none"], default="all")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return 0

    cases = make_cases(args.seconds)
    ours_errors, times, peaks = [], [], []
    base_errors = []
    with tempfile.TemporaryDirectory(prefix="practika-bench-align-") as scratch:
        for index, (name, pair) in enumerate(cases.items()):
            ours = run_case(pair, "ours", Path(scratch))
            ours_errors.append(ours["errors"])
            times.append(ours["time_s"])
            peaks.append(ours["peak_mb"])
            print(
                f"# {name}: {len(pair.demo) / pair.sample_rate:.0f} s demonstration, "
                f"{len(pair.reply) / pair.sample_rate:.0f} s reply; confidence "
                f"{ours['confidence']:.2f}, transposition {ours['transposition']:+d} "
                f"(true {pair.transpose:+d}), trusted {ours['trusted']}; whole analysis with "
                f"pitch and bands {ours['analyse_s']:.2f} s, {ours['bands']} bands; "
                f"process peak {ours['process_mb']:.0f} MB"
            )
            bench(f"align_{name}_time_s", ours["time_s"], "s")
            bench(f"align_{name}_peak_mb", ours["peak_mb"], "MB")
            bench(f"align_{name}_err_p50_ms", np.median(ours["errors"]), "ms")
            bench(f"align_{name}_err_p95_ms", np.percentile(ours["errors"], 95), "ms")
            if args.baseline == "all" or (args.baseline == "first" and index == 0):
                base = run_case(pair, "baseline", Path(scratch))
                base_errors.append(base["errors"])
                print(f"# {name} baseline: process peak {base['process_mb']:.0f} MB")
                bench(f"baseline_{name}_time_s", base["time_s"], "s")
                bench(f"baseline_{name}_peak_mb", base["peak_mb"], "MB")
                bench(f"baseline_{name}_err_p50_ms", np.median(base["errors"]), "ms")
                bench(f"baseline_{name}_err_p95_ms", np.percentile(base["errors"], 95), "ms")
    errors = np.concatenate(ours_errors)
    totals = {
        "time_s": max(times), "peak_mb": max(peaks),
        "p50_ms": float(np.median(errors)), "p95_ms": float(np.percentile(errors, 95)),
    }
    if base_errors:
        both = np.concatenate(base_errors)
        print(f"# baseline over its cases: p50 {np.median(both):.0f} ms, "
              f"p95 {np.percentile(both, 95):.0f} ms")
    for key, value in totals.items():
        verdict = "meets" if value <= TARGETS[key] else "MISSES"
        print(f"# {key}: {value:.3f} ({verdict} the target {TARGETS[key]})")
    bench("align_time_s", totals["time_s"], "s")
    bench("align_peak_mb", totals["peak_mb"], "MB")
    bench("align_err_p50_ms", totals["p50_ms"], "ms")
    bench("align_err_p95_ms", totals["p95_ms"], "ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
