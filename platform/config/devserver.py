"""`make dev`: everything Practika needs on a developer's machine, in one foreground process.

    PYTHONPATH=platform python -m config.devserver

1. Starts the embedded PostgreSQL (config.embedded_db) unless DATABASE_URL is set, and passes
   its URL to every child in DATABASE_URL.
2. Migrates the public schema, the tenant template and the existing tenants; seeds the demo.
3. Runs the ASGI web server (uvicorn, reloading on code changes) and a Celery worker (with
   beat). One uvicorn serves the pages and the websockets, for simplicity: production splits
   them (gunicorn for the pages, uvicorn for /ws/; config.webserver), with the same edge
   guarantees on both sides (tests/security/). Without REDIS_URL the broker is kombu's
   filesystem transport: no server to run.
   uvicorn believes X-Forwarded-For only from the settings' TRUSTED_PROXIES (loopback unless
   PRACTIKA_TRUSTED_PROXIES says otherwise). uvicorn's access log is off: Django's request
   log prints one readable line per request, and emails at INFO (config.dev_logging).
4. On Ctrl-C (SIGINT), SIGTERM or SIGHUP, or when a child dies, stops the children and then
   the embedded PostgreSQL, so that no process is left behind. The data stays in .data/.

Each child runs in its own session: the terminal's Ctrl-C reaches only make and this
launcher, which then stops every child's whole process group (uvicorn's reloaded worker,
Celery's beat process, ffmpeg) in order, rather than racing their own signal handlers.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from config import embedded_db

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PORT = 8000
SETTINGS = "config.settings.development"
# Code that uvicorn watches; .data/ (uploads, broker files) and .venv/ must not trigger reloads.
RELOAD_DIRS = ["platform", "tenants", "billing", "learning", "analytics"]
# uvicorn's log format, its access log off (config.dev_logging logs each request once).
LOG_CONFIG = Path(__file__).resolve().parent / "uvicorn-dev-logging.json"
STOP_TIMEOUT_S = 10

_stop_requested: list[int] = []


def _request_stop(signum: int, _frame: object) -> None:
    _stop_requested.append(signum)


def _child_preexec() -> None:
    # Linux: a child is sent SIGTERM if this launcher dies without cleaning up (kill -9).
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    print(f"[dev] starting {name}: {' '.join(argv[1:])}", flush=True)
    return subprocess.Popen(  # noqa: S603 - fixed argv built above
        argv, cwd=BASE_DIR, env=env, start_new_session=True,
        preexec_fn=_child_preexec if sys.platform.startswith("linux") else None,
    )


def _stop_children(children: dict[str, subprocess.Popen]) -> None:
    for process in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, process in children.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[dev] {name} did not stop in {STOP_TIMEOUT_S}s; killing it", flush=True)
        # The group may outlive its leader (a reloader's worker, a beat process): kill the rest.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_until_serving(url: str, web: subprocess.Popen, timeout_s: float = 90) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and web.poll() is None and not _stop_requested:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - loopback
        ):
            if response.status == 200:
                return True
        time.sleep(0.5)
    return False


def _prepare_database(env: dict[str, str]) -> str:
    """Migrate and seed in this process (one Django start-up instead of four); the summary."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=1)
    call_command("migrate_template", verbosity=1)
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    # The filesystem broker needs its folders before anything queues a task (the demo seed
    # does), and before the worker and the web server use them.
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    summary = io.StringIO()
    call_command("seed_demo", stdout=summary)
    # The sample exercise with a processed, aligned and commented reply (first start only).
    call_command("seed_demo_content")
    connections.close_all()
    return summary.getvalue()


def main() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _request_stop)
    if not _port_is_free(HOST, PORT):
        print(f"[dev] {HOST}:{PORT} is in use: is another `make dev` running?", file=sys.stderr)
        return 1

    env = dict(os.environ)
    # asgi.py defaults to production settings; development must be asked for explicitly.
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env["PYTHONPATH"] = os.pathsep.join(
        [str(BASE_DIR / "platform"), str(BASE_DIR), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.setdefault("PYTHONUNBUFFERED", "1")

    server = None
    children: dict[str, subprocess.Popen] = {}
    try:
        if env.get("DATABASE_URL"):
            print("[dev] using DATABASE_URL", flush=True)
        else:
            print(f"[dev] starting the embedded PostgreSQL in {embedded_db.data_dir()}", flush=True)
            server = embedded_db.start(stop_on_exit=False)
            env["DATABASE_URL"] = embedded_db.url(server)
        print(
            "[dev] broker: " + ("Redis (REDIS_URL)" if env.get("REDIS_URL") else "filesystem"),
            flush=True,
        )
        summary = _prepare_database(env)
        if _stop_requested:
            return 0
        from django.conf import settings

        python = sys.executable
        reload_args = [arg for d in RELOAD_DIRS for arg in ("--reload-dir", str(BASE_DIR / d))]
        children["web"] = _spawn(
            "web", [
                python, "-m", "uvicorn", "config.asgi:application",
                "--host", HOST, "--port", str(PORT), "--app-dir", "platform",
                "--reload", *reload_args,
                "--proxy-headers", "--forwarded-allow-ips", ",".join(settings.TRUSTED_PROXIES),
                "--log-config", str(LOG_CONFIG),
            ], env,
        )
        children["worker"] = _spawn(
            "worker", [
                python, "-m", "celery", "-A", "config", "worker", "--beat",
                "--schedule", str(BASE_DIR / ".data" / "celerybeat-schedule"),
                "--pool", "threads", "--concurrency", "2", "--loglevel", "INFO",
                # One worker takes every queue here; production runs one service per queue.
                "--queues", "default,billing,video",
            ], env,
        )
        if _wait_until_serving(f"http://{HOST}:{PORT}/healthz", children["web"]):
            print(_banner(summary), flush=True)

        while not _stop_requested:
            for name, process in children.items():
                if process.poll() is not None:
                    print(f"[dev] {name} exited with {process.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        # Ctrl-C again while stopping must not leave the rest running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\n[dev] stopping...", flush=True)
        _stop_children(children)
        if server is not None:
            embedded_db.stop()
        print("[dev] stopped; data kept in .data/", flush=True)


def _banner(summary: str) -> str:
    rule = "=" * 72
    return "\n".join([
        "", rule, "Practika is running. Open:",
        "  http://localhost:8000                public site",
        "  http://localhost:8000/staff/         platform staff",
        "  http://demo-school.localhost:8000    a school",
        "  http://demo-studio.localhost:8000    a teacher's studio",
        "", summary.rstrip(), "", "Ctrl-C stops everything.", rule, "",
    ])


if __name__ == "__main__":
    sys.exit(main())
