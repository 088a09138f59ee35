"""Benchmark: media processing speed as a multiple of real time, on both paths.

Makes 60-second clips with sound (testsrc2 + a sine tone) and times the whole processing from
"uploaded" to "ready": probe, then the one ffmpeg pass for rendition, poster and waveform.

- a 720p H.264/AAC MP4, as a phone or camera sends it: browsers play it as it is, so its
  streams are copied (the run fails if they are not) -> `video_processing_realtime_x`;
- a clip that must be re-encoded: a phone's 1080p H.264 (`--reencode-source 1080p`, the
  default) or a browser's 720p VP9/Opus WebM (`vp9`) -> `video_processing_reencode_realtime_x`;
- the same 720p clip re-encoded on purpose, the peer of the first in the same run ->
  `video_processing_copy_speedup_x` (how many times faster the copy is).

Medians of --runs runs. CPU seconds are printed beside each run: on a busy machine they show
what wall-clock time hides.

    .venv/bin/python bench/video_processing.py [--runs 3] [--duration 60]
        [--reencode-source 1080p|vp9]
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

H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M",
       "-row-mt", "1", "-c:a", "libopus"]
# name -> (picture size, encoder arguments, file extension)
SOURCES = {
    "720p": ("1280x720", H264, "mp4"),
    "1080p": ("1920x1080", H264, "mp4"),
    "vp9": ("1280x720", VP9, "webm"),
}


def make_source(directory: Path, *, duration_s: int, name: str) -> Path:
    """Write one benchmark clip at 30 fps with a stereo tone."""
    size, codec_args, extension = SOURCES[name]
    path = directory / f"{name}.{extension}"
    subprocess.run(
        [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={duration_s}",
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


def process_once(
    source: Path, out_dir: Path, *, reencode: bool, expect_copy: bool
) -> tuple[float, float]:
    """Probe and transcode `source` once, print the run; return its real-time factors, by
    the clock and by CPU time (as if the machine's cores had been free)."""
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    info = probe(source)
    probed = time.perf_counter()
    result = transcode(source, out_dir, probe_result=info, reencode=reencode)
    finished = time.perf_counter()
    if result.copied != expect_copy:
        raise SystemExit(f"{source.name}: expected copied={expect_copy}, got {result}")
    cpu_s = _cpu_seconds() - cpu_before
    elapsed = finished - started
    factor = info.duration_s / elapsed
    cores = os.cpu_count() or 1
    free_factor = info.duration_s * cores / cpu_s
    how = "copied" if result.copied else "re-encoded (" + ", ".join(result.reencode_reasons) + ")"
    size_mb = result.renditions[0].path.stat().st_size / 1e6
    print(
        f"  {source.name} {how}: probe {probed - started:.2f} s, one pass "
        f"{finished - probed:.2f} s, total {elapsed:.2f} s = {factor:.2f}x real time, "
        f"{size_mb:.1f} MB (CPU {cpu_s:.1f} s; {free_factor:.1f}x if the {cores} cores were free)"
    )
    return factor, free_factor


def main() -> None:
    """Run the benchmark and print the BENCH lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=60, help="clip length in seconds")
    parser.add_argument("--reencode-source", choices=["1080p", "vp9"], default="1080p")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="practika-bench-") as scratch:
        directory = Path(scratch)
        ready = make_source(directory, duration_s=options.duration, name="720p")
        other = make_source(directory, duration_s=options.duration, name=options.reencode_source)
        copies, reencodes, peers = [], [], []
        for run in range(1, options.runs + 1):
            print(f"run {run}:")
            copies.append(process_once(ready, directory / "a", reencode=False, expect_copy=True))
            reencodes.append(
                process_once(other, directory / "b", reencode=False, expect_copy=False)
            )
            peers.append(process_once(ready, directory / "c", reencode=True, expect_copy=False))
    for name, factors in (("", copies), ("reencode_", reencodes)):
        print(f"BENCH video_processing_{name}realtime_x {_median(factors, 0):.2f} x")
        print(f"BENCH video_processing_{name}free_cores_realtime_x {_median(factors, 1):.2f} x")
    print(f"BENCH video_processing_copy_speedup_x {_median(copies, 0) / _median(peers, 0):.2f} x")


def _median(factors: list[tuple[float, float]], which: int) -> float:
    return statistics.median(pair[which] for pair in factors)


if __name__ == "__main__":
    main()
