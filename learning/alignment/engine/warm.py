"""Compile the engine's numba kernels into numba's cache:
`python -m learning.alignment.engine.warm`.

The image runs this at build time with NUMBA_CACHE_DIR=/opt/numba-cache (see the Dockerfile),
and the worker's entrypoint copies that directory to the writable NUMBA_CACHE_DIR under /tmp
before Celery starts: numba refuses a cache directory it cannot write to (it checks with a
temporary file), and the image's root filesystem is read-only in production. The image sets
NUMBA_CPU_NAME=generic, so the cached machine code suits whichever CPU the task lands on.
Without a usable cache the first analysis of every worker process compiles the kernels
again (about 10 s on 2 cores).
"""

from __future__ import annotations

import sys
import time


def kernels() -> list:
    from . import dtw, features

    return [
        dtw._full,
        dtw._backtrack_full,
        dtw._banded,
        dtw._backtrack_banded,
        features._decay,
    ]


def warm() -> dict[str, int]:
    """Run one short analysis (every kernel, every signature an analysis uses); the
    kernels' cache hits and misses."""
    from . import analysis, synthesis

    notes = synthesis.melody(duration_s=6.0, seed=1)
    pair = synthesis.make_pair(
        "warm", notes=notes, warp=synthesis.varying(duration_s=6.0, delay_s=0.5, depth=0.1)
    )
    analysis.analyse(pair.demo, pair.reply)
    hits = sum(sum(kernel.stats.cache_hits.values()) for kernel in kernels())
    misses = sum(sum(kernel.stats.cache_misses.values()) for kernel in kernels())
    return {"cache_hits": hits, "cache_misses": misses}


def main() -> int:
    started = time.perf_counter()
    counts = warm()
    print(
        f"numba kernels: {counts['cache_hits']} loaded from the cache, "
        f"{counts['cache_misses']} compiled, in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
