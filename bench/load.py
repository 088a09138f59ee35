"""The realistic load test (issue 12): 200 members over 20 tenants for five minutes.

    make bench                     (or: PYTHONPATH=platform:. python bench/load.py)
    BENCH load_errors <n>
    BENCH load_p95_ms <ms> ms      over every page and API request
    BENCH load_server_errors <n>   ERROR lines in the web server's and the worker's logs
    BENCH load_p50_ms, load_p99_ms, load_throughput_rps, load_uploads_ready

What production runs, on loopback: the image's web command (config.webserver, two workers) and
its Celery worker with the production settings, PostgreSQL (DATABASE_URL's server, or the
embedded one `make bench` starts; a fresh database either way) and Redis (REDIS_URL, or a
redis-server of its own). Students open exercises and upload 10-second replies through the
upload API, which the worker transcodes with ffmpeg; teachers open the inbox and compare
pages and comment; everyone opens dashboards (tests/support/load/). At most LOAD_UPLOADS
uploads (60), so the disk and the worker's queue stay bounded. Prints a line per endpoint
(p50/p95/p99, req/s). Targets: load_errors 0, load_p95_ms ≤ 200.

LOAD_SECONDS, LOAD_USERS, LOAD_TENANTS and LOAD_UPLOADS change the size of the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from tests.support.load.run import run  # noqa: E402 - after the import path is set


def main() -> int:
    result = run(
        seconds=int(os.environ.get("LOAD_SECONDS", "300")),
        users=int(os.environ.get("LOAD_USERS", "200")),
        tenants=int(os.environ.get("LOAD_TENANTS", "20")),
        uploads=int(os.environ.get("LOAD_UPLOADS", "60")),
    )
    print(result.report(), flush=True)
    overall = result.overall
    print(f"BENCH load_errors {result.errors}")
    print(f"BENCH load_server_errors {result.server_error_count}")
    print(f"BENCH load_p95_ms {overall.p95:.0f} ms")
    print(f"BENCH load_p50_ms {overall.p50:.0f} ms")
    print(f"BENCH load_p99_ms {overall.p99:.0f} ms")
    print(f"BENCH load_throughput_rps {overall.rps:.1f}")
    print(f"BENCH load_uploads_ready {result.uploads['ready']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
