"""The web server's command line, in one place.

The image's `web` role (`infra/docker/entrypoint.sh web`) runs `python -m config.webserver`,
and the page benchmark and the load test start Practika, and the bare Django they compare it
with, through `command()`: what is measured is what production runs.

    python -m config.webserver [--app MODULE:ATTR] [--host H] [--port P] [--workers N]

The number of worker processes comes from WEB_CONCURRENCY (default 2), the trusted proxies
from PRACTIKA_TRUSTED_PROXIES (the same setting Django reads), the port from PORT.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG_CONFIG = ROOT / "infra" / "docker" / "uvicorn-logging.json"
DEFAULT_APP = "config.asgi:application"
KEEP_ALIVE_S = 310


def command(
    *,
    app: str = DEFAULT_APP,
    host: str = "0.0.0.0",  # noqa: S104 - a container's server listens on its own interface
    port: int | None = None,
    workers: int | None = None,
) -> list[str]:
    port = port if port is not None else int(os.environ.get("PORT", "8000"))
    workers = workers if workers is not None else int(os.environ.get("WEB_CONCURRENCY", "2"))
    # --proxy-headers: the ALB appends the client's address to X-Forwarded-For. Only the
    # trusted proxies' entries are believed (the VPC range on ECS): the client is the rightmost
    # other address, never the leftmost, which the client writes itself. Access lines come
    # from Django's request middleware as JSON, so uvicorn's own access log is off.
    trusted = os.environ.get("PRACTIKA_TRUSTED_PROXIES", "127.0.0.1,::1")
    return [
        sys.executable, "-m", "uvicorn", app,
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--proxy-headers", "--forwarded-allow-ips", trusted,
        "--no-access-log", "--log-config", str(LOG_CONFIG),
        "--lifespan", "off",
        # uvicorn's supervisor kills a worker that has not answered its ping within this
        # time; the default (5 s) killed busy workers, and the requests in them, under load.
        "--timeout-worker-healthcheck", "30",
        # Idle keep-alive connections stay open longer than the load balancer's idle timeout
        # (300 s, infra/terraform/alb.tf): a server that closes first races the proxy's next
        # request on that connection, which then fails (uvicorn's default is 5 s).
        "--timeout-keep-alive", str(KEEP_ALIVE_S),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.webserver")
    parser.add_argument("--app", default=DEFAULT_APP)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - as in command()
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    argv = command(app=args.app, host=args.host, port=args.port, workers=args.workers)
    os.execv(argv[0], argv)  # noqa: S606 - our own fixed command line, no shell


if __name__ == "__main__":
    main()
