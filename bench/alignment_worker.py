"""Benchmark: the alignment worker's first task, warm speed and process memory (issue 14).

A 3-minute generated pair (a melody with a ±20 % tempo swing, a late start and a 2 s pause,
another timbre, noise) is encoded to AAC files, as the worker gets recordings, and analysed
from the files (decode included) by `learning.alignment.engine.analyse_files`, the task's
code path: the alignment, then the wrong, missed and extra notes (Basic Pitch, onnxruntime).
The times are the alignment's (to the moment its result is known, before the notes start);
the notes' time and the whole task's are printed beside them:

* `align_worker_first_task_s`: the wall time of a fresh Python process, from its start to
  the result: the interpreter, importing the engine (numpy, scipy, numba), loading numba's
  cached kernels, decoding both files and the whole analysis. The cache is warmed as in
  production (the Dockerfile and infra/docker/entrypoint.sh): `python -m
  learning.alignment.engine.warm` into a seed directory in a process of its own, the seed
  copied to the NUMBA_CACHE_DIR the worker uses, NUMBA_CPU_NAME=generic. A Celery worker
  has Django loaded before its first task, so that is left out.
* `align_warm_total_s`: the same analysis (decode included) in a process that has done one
  already: the median of three. (The notes a worker keeps of its last takes are dropped
  before each, so the whole warm task, printed beside, transcribes both takes again.)
* `align_process_peak_mb`: the peak resident set of the fresh process over the whole first
  task, notes included (resource.getrusage's ru_maxrss, in the process itself): Python,
  numpy, scipy, numba, onnxruntime and the analysis. Not tracemalloc, which sees neither
  numba's nor the FFT's nor onnxruntime's memory. `align_alignment_peak_mb` is the peak
  when the alignment is done, before the notes.

Each figure is the median of `--runs` fresh processes (default 3). The machine is shared,
so wall times are loose; the CPU seconds (threads and ffmpeg included) and the load average
are printed beside them. Targets (issue 14): ≤ 3 s, ≤ 1.0 s, ≤ 300 MB.

    PYTHONPATH=platform:. .venv/bin/python bench/alignment_worker.py [--runs 3] [--seconds 180]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"first_task_s": 3.0, "warm_total_s": 1.0, "process_peak_mb": 300.0}


def cpu_s() -> float:
    """CPU seconds of this process's threads and of its finished children (ffmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(mode: str, demo: str, reply: str) -> None:
    """In the measured process: nothing of the engine is imported before this point."""
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    started = time.perf_counter()
    from learning.alignment import engine

    imported = time.perf_counter() - started
    # The moment the alignment is done and the notes begin: analyse_files releases the
    # alignment's memory there. Only read here, the analysis itself is the task's.
    from learning.alignment.engine import analysis

    release = analysis._release_memory
    marks = []

    def aligned_mark():
        marks.append(
            (time.perf_counter(), cpu_s(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        )
        release()

    analysis._release_memory = aligned_mark
    result = engine.analyse_files(Path(demo), Path(reply))
    whole = time.perf_counter() - started
    out = {"imports_s": imported, "aligned": result.aligned, "task_s": whole}
    out["first_s"] = marks[0][0] - started
    out["first_cpu_s"] = marks[0][1]
    out["task_cpu_s"] = cpu_s()
    out["alignment_peak_mb"] = marks[0][2] / 1024
    out["notes"] = result.summary.get("notes", {}).get("demo_notes")
    if mode == "warm":
        times, cpu, tasks, task_cpu = [], [], [], []
        from learning.alignment.engine import notes

        for _ in range(3):
            marks.clear()
            notes._recent.clear()  # both takes transcribed again, as for a new pair
            began, began_cpu = time.perf_counter(), cpu_s()
            engine.analyse_files(Path(demo), Path(reply))
            times.append(marks[0][0] - began)
            cpu.append(marks[0][1] - began_cpu)
            tasks.append(time.perf_counter() - began)
            task_cpu.append(cpu_s() - began_cpu)
        out["warm_s"], out["warm_cpu_s"] = sorted(times)[1], sorted(cpu)[1]
        out["warm_task_s"], out["warm_task_cpu_s"] = sorted(tasks)[1], sorted(task_cpu)[1]
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from learning.alignment.engine import warm

    out["kernels"] = {
        kernel.py_func.__name__: {
            "hits": sum(kernel.stats.cache_hits.values()),
            "misses": sum(kernel.stats.cache_misses.values()),
        }
        for kernel in warm.kernels()
    }
    print(json.dumps(out))


def make_files(directory: Path, seconds: float) -> tuple[Path, Path]:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    from learning.alignment.engine import synthesis
    from learning.media.pipeline.runner import run_ffmpeg

    s = synthesis
    notes = s.melody(duration_s=seconds, seed=1)
    pair = s.make_pair(
        "worker",
        notes=notes,
        warp=s.varying(
            duration_s=seconds,
            delay_s=4.0,
            depth=0.2,
            period_s=seconds / 4,
            pause=(s.note_start_near(notes, seconds / 2), 2.0),
        ),
        reply_timbre=s.STRINGS,
        seed=10,
    )
    paths = []
    for name, samples in (("demo", pair.demo), ("reply", pair.reply)):
        raw = directory / f"{name}.f32"
        raw.write_bytes(samples.astype("<f4").tobytes())
        out = directory / f"{name}.m4a"
        run_ffmpeg(
            [
                *("-f", "f32le", "-ar", str(s.SAMPLE_RATE), "-ac", "1", "-i", str(raw)),
                *("-ar", "44100", "-c:a", "aac", "-b:a", "128k", "-y", str(out)),
            ],
            timeout_s=120,
            failure_message="could not encode the pair",
        )
        raw.unlink()
        paths.append(out)
    return paths[0], paths[1]


def environment(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "NUMBA_CPU_NAME": "generic",
        "PYTHONPATH": "",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def warm_cache(directory: Path) -> Path:
    """The image's build step, then the worker entrypoint's copy."""
    seed, cache = directory / "numba-seed", directory / "numba-cache"
    env = {**environment(seed), "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    subprocess.run(
        [sys.executable, "-m", "learning.alignment.engine.warm"], env=env, check=True, cwd=ROOT
    )
    shutil.copytree(seed, cache)
    return cache


def run_child(mode: str, demo: Path, reply: Path, cache: Path) -> dict:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(demo), str(reply)],
        env=environment(cache),
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    out["task_process_s"] = time.perf_counter() - started
    # To the alignment's result: the process's start to the moment the notes begin.
    out["process_s"] = out["task_process_s"] - (out["task_s"] - out["first_s"])
    return out


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    with tempfile.TemporaryDirectory(prefix="practika-bench-worker-") as scratch:
        directory = Path(scratch)
        demo, reply = make_files(directory, args.seconds)
        cache = warm_cache(directory)
        firsts = [run_child("first", demo, reply, cache) for _ in range(args.runs)]
        warms = [run_child("warm", demo, reply, cache) for _ in range(args.runs)]
    compiled = {
        name: counts["misses"]
        for run in firsts
        for name, counts in run["kernels"].items()
        if counts["misses"]
    }
    print(
        f"# {args.seconds:.0f} s pair as AAC; first task per fresh process (s): "
        + ", ".join(f"{run['process_s']:.2f}" for run in firsts)
        + "; of which engine imports: "
        + ", ".join(f"{run['imports_s']:.2f}" for run in firsts)
        + "; warm (s): "
        + ", ".join(f"{run['warm_s']:.2f}" for run in warms)
        + "; warm CPU (s, ffmpeg included): "
        + ", ".join(f"{run['warm_cpu_s']:.2f}" for run in warms)
        + "; first task CPU (s): "
        + ", ".join(f"{run['first_cpu_s']:.2f}" for run in firsts)
        + f"; load average {os.getloadavg()[0]:.1f}"
        + "; peak RSS (MB): "
        + ", ".join(f"{run['peak_mb']:.0f}" for run in firsts)
        + " (when the alignment was done: "
        + ", ".join(f"{run['alignment_peak_mb']:.0f}" for run in firsts)
        + ")"
    )
    print(
        "# with the notes: the whole first task per fresh process (s): "
        + ", ".join(f"{run['task_process_s']:.2f}" for run in firsts)
        + "; CPU (s): "
        + ", ".join(f"{run['task_cpu_s']:.2f}" for run in firsts)
        + "; the whole warm task (s): "
        + ", ".join(f"{run['warm_task_s']:.2f}" for run in warms)
        + "; CPU (s): "
        + ", ".join(f"{run['warm_task_cpu_s']:.2f}" for run in warms)
        + "; demonstration notes: "
        + ", ".join(str(run["notes"]) for run in firsts + warms)
    )
    print(f"# kernels compiled in a fresh process despite the cache: {compiled or 'none'}")
    totals = {
        "first_task_s": median([run["process_s"] for run in firsts]),
        "warm_total_s": median([run["warm_s"] for run in warms]),
        "process_peak_mb": median([run["peak_mb"] for run in firsts]),
    }
    for key, value in totals.items():
        verdict = "meets" if value <= TARGETS[key] else "MISSES"
        print(f"# {key}: {value:.3f} ({verdict} the target {TARGETS[key]})")
    print(f"BENCH align_worker_first_task_s {totals['first_task_s']:.3f} s")
    print(f"BENCH align_warm_total_s {totals['warm_total_s']:.3f} s")
    print(f"BENCH align_process_peak_mb {totals['process_peak_mb']:.0f} MB")
    alignment_peak = median([run["alignment_peak_mb"] for run in firsts])
    print(f"BENCH align_alignment_peak_mb {alignment_peak:.0f} MB")
    print(f"BENCH align_warm_task_with_notes_s {median([r['warm_task_s'] for r in warms]):.3f} s")
    warm_task_cpu = median([r["warm_task_cpu_s"] for r in warms])
    print(f"BENCH align_warm_task_with_notes_cpu_s {warm_task_cpu:.3f} s")
    all_aligned = all(run["aligned"] for run in firsts + warms)
    return 0 if all_aligned and not compiled else 1


if __name__ == "__main__":
    sys.exit(main())
