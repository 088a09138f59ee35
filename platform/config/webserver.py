"""The web servers' command lines, in one place.

Two processes, routed by path at the load balancer (infra/terraform/alb.tf):

- **pages** (the image's `web` role): everything but `/ws/`, Django under WSGI on gunicorn's
  threaded workers, serving `config.wsgi:application`;
- **websockets** (the image's `ws` role): `/ws/` (channels, tenants.websockets) under uvicorn,
  serving `config.asgi:application`.

Why: a page costs less CPU under WSGI than under ASGI, and the server's own protocol work less
under gunicorn than under uvicorn (docs/scaling.md, "The web command"). The roles run
`python -m config.webserver [--kind pages|websockets]`, and the page benchmark and the load test
start Practika, and the bare Django they compare it with, through `command()`: what is
measured is what production runs.

    python -m config.webserver [--kind K] [--app MODULE:ATTR] [--host H] [--port P] [--workers N]

The number of worker processes comes from WEB_CONCURRENCY (default 2 for pages, 1 for
websockets), the threads of each page worker from WEB_THREADS (default 8), the trusted proxies
from PRACTIKA_TRUSTED_PROXIES (the same setting Django reads), the port from PORT (default 8000
for pages, 8001 for websockets).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
LOG_CONFIG = ROOT / "infra" / "docker" / "uvicorn-logging.json"
GUNICORN_LOG_CONFIG = ROOT / "infra" / "docker" / "gunicorn-logging.json"
Kind = Literal["pages", "websockets"]
KINDS: tuple[Kind, ...] = ("pages", "websockets")
DEFAULT_APP = "config.wsgi:application"
WEBSOCKET_APP = "config.asgi:application"
APPS: dict[Kind, str] = {"pages": DEFAULT_APP, "websockets": WEBSOCKET_APP}
PORTS: dict[Kind, int] = {"pages": 8000, "websockets": 8001}
WEBSOCKET_PATH = "/ws/"
# Idle keep-alive connections stay open longer than the load balancer's idle timeout (300 s,
# infra/terraform/alb.tf): a server that closes first races the proxy's next request on that
# connection, which then fails (uvicorn's default is 5 s, gunicorn's 2 s).
KEEP_ALIVE_S = 310
# On SIGTERM the server stops accepting, finishes what it serves for up to this long, then
# exits: before ECS's stopTimeout (30 s) sends SIGKILL.
GRACEFUL_TIMEOUT_S = 25
# Threads per page worker: requests served at once by a process (a slow client or a request
# waiting for a pooled connection holds one). At most the database pool's size (12, config.
# settings.production), so that a thread rarely waits for a connection.
DEFAULT_THREADS = 8


def command(
    *,
    kind: Kind = "pages",
    app: str | None = None,
    host: str = "0.0.0.0",  # noqa: S104 - a container's server listens on its own interface
    port: int | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> list[str]:
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}, not {kind!r}")
    app = app or APPS[kind]
    port = port if port is not None else int(os.environ.get("PORT", str(PORTS[kind])))
    default_workers = "2" if kind == "pages" else "1"
    workers = (
        workers if workers is not None else int(os.environ.get("WEB_CONCURRENCY", default_workers))
    )
    # The ALB appends the client's address to X-Forwarded-For. Only the trusted proxies'
    # entries are believed (the VPC range on ECS): the client is the rightmost other address,
    # never the leftmost, which the client writes itself. uvicorn does it (--proxy-headers);
    # under gunicorn, config.wsgi does (config.proxy_headers), with the same list; gunicorn's
    # own option only covers the scheme headers. Access lines come from Django's request
    # middleware as JSON, so the servers' own access logs are off.
    trusted = os.environ.get("PRACTIKA_TRUSTED_PROXIES", "127.0.0.1,::1")
    if kind == "pages":
        threads = (
            threads
            if threads is not None
            else int(os.environ.get("WEB_THREADS", str(DEFAULT_THREADS)))
        )
        return [
            sys.executable, "-m", "gunicorn", app,
            "--bind", _bind(host, port), "--workers", str(workers),
            # Threads, not sync workers: a sync worker serves one connection at a time, so one
            # slow client (or one request waiting up to 25 s for a pooled connection) stops
            # the process; keep-alive connections wait in the worker's poller, not a thread.
            "--worker-class", "gthread", "--threads", str(threads),
            "--forwarded-allow-ips", trusted,
            "--log-config-json", str(GUNICORN_LOG_CONFIG),
            "--logger-class", "config.gunicorn_logger.Logger",
            # A listening socket per worker (SO_REUSEPORT): the kernel spreads connections over
            # the workers. With one shared socket, the worker that wakes first accepts a burst
            # of new connections alone, and keep-alive connections (the load balancer's, wrk's)
            # then stay with it: in the page benchmark one of two workers served all 16 and the
            # other idled, at half the throughput, in about one run of three (docs/scaling.md).
            "--reuse-port",
            "--keep-alive", str(KEEP_ALIVE_S),
            "--graceful-timeout", str(GRACEFUL_TIMEOUT_S),
            # A worker whose main loop has not reported for this long is restarted.
            "--timeout", "30",
            "--no-control-socket",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", app,
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--proxy-headers", "--forwarded-allow-ips", trusted,
        "--no-access-log", "--log-config", str(LOG_CONFIG),
        "--lifespan", "off",
        # uvicorn's supervisor kills a worker that has not answered its ping within this
        # time; the default (5 s) killed busy workers, and the requests in them, under load.
        "--timeout-worker-healthcheck", "30",
        "--timeout-keep-alive", str(KEEP_ALIVE_S),
        "--timeout-graceful-shutdown", str(GRACEFUL_TIMEOUT_S),
    ]  # fmt: skip


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.webserver")
    parser.add_argument("--kind", choices=KINDS, default="pages")
    parser.add_argument("--app")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - as in command()
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    argv = command(
        kind=args.kind, app=args.app, host=args.host, port=args.port, workers=args.workers,
        threads=args.threads,
    )  # fmt: skip
    os.execv(argv[0], argv)  # noqa: S606 - our own fixed command line, no shell


if __name__ == "__main__":
    main()
