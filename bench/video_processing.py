"""Benchmark: media processing speed as a multiple of real time.

Makes a 60-second 720p clip with sound (testsrc2 + a sine tone, H.264/AAC like a phone, or
VP9/Opus WebM like a browser with --source vp9), then times the whole processing from
"uploaded" to "ready": probe, 720p + 360p renditions in one pass, poster and waveform.
Prints `BENCH video_processing_realtime_x <value> x`, the median of --runs runs.

    .venv/bin/python bench/video_processing.py [--runs 3] [--duration 60] [--source h264|vp9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script from the repository root: make `learning` importable like pytest does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning.media.pipeline import probe, transcode
from learning.media.pipeline.runner import ffmpeg_exe

SOURCE_CODECS = {
    "h264": (["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac"], "mp4"),
    "vp9": (
        ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M",
         "-row-mt", "1", "-c:a", "libopus"],
        "webm",
    ),
}


def make_source(directory: Path, *, duration_s: int, codec: str) -> Path:
    """Write the benchmark's source clip: 1280x720 at 30 fps with a stereo tone."""
    codec_args, extension = SOURCE_CODECS[codec]
    path = directory / f"source.{extension}"
    subprocess.run(
        [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={duration_s}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration_s}",
            "-ac", "2", "-pix_fmt", "yuv420p", *codec_args, str(path),
        ],
        check=True,
        timeout=30 * duration_s,
    )
    return path


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def process_once(source: Path, out_dir: Path) -> tuple[float, float, float]:
    """Probe and transcode `source` once; return probe, transcode and CPU seconds."""
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    info = probe(source)
    probed = time.perf_counter()
    transcode(source, out_dir, probe_result=info)
    finished = time.perf_counter()
    return probed - started, finished - probed, _cpu_seconds() - cpu_before


def main() -> None:
    """Run the benchmark and print the BENCH line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=60, help="clip length in seconds")
    parser.add_argument("--source", choices=sorted(SOURCE_CODECS), default="h264")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="practika-bench-") as scratch:
        directory = Path(scratch)
        source = make_source(directory, duration_s=options.duration, codec=options.source)
        factors = []
        for run in range(1, options.runs + 1):
            probe_s, transcode_s, cpu_s = process_once(source, directory / "out")
            elapsed = probe_s + transcode_s
            factors.append(options.duration / elapsed)
            # CPU time shows what a busy machine hides: the wall-clock figure if this run
            # had had every core to itself.
            cores = os.cpu_count() or 1
            print(
                f"run {run}: probe {probe_s:.2f} s, renditions+poster+waveform "
                f"{transcode_s:.2f} s, total {elapsed:.2f} s = {factors[-1]:.2f}x real time "
                f"(CPU {cpu_s:.1f} s; {options.duration * cores / cpu_s:.1f}x if the "
                f"{cores} cores were free)"
            )
    print(f"BENCH video_processing_realtime_x {statistics.median(factors):.2f} x")


if __name__ == "__main__":
    main()
