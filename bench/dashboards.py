"""Dashboard latency and throughput under concurrent load, beside a bare Django view.

    make bench                                   (or: python bench/dashboards.py)
    BENCH dashboard_p99_ms <worse of teacher and student> ms
    BENCH dashboard_throughput_vs_bare <ratio>

A tenant with 1,000 students and 10,000 replies (tests/support/scale.py) in the embedded
PostgreSQL of its own data folder (.data/postgres-bench-dash, kept between runs so the seed is
made once). The real ASGI server (uvicorn, one process, the project's ASGI application) is
started by this script and loaded over loopback by a small keep-alive HTTP/1.1 client on
asyncio with 16 connections, for the teacher dashboard, the student dashboard and a bare view
that returns "ok" through the same middleware, as the same logged-in member, in the same run.
Targets (issue 5): p99 ≤ 10 ms at 16 connections; dashboard throughput ≥ 30% of the bare view.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 2.0
SLUG = "bench-dash"
STUDENTS, REPLIES = 1000, 10000


def _setup_django() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    # Its own data folder, whatever `make bench` sets for the other scripts.
    os.environ["PRACTIKA_EMBEDDED_PG_DIR"] = str(ROOT / ".data" / "postgres-bench-dash")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()


# --- The server (a child process) -----------------------------------------------------------


def bare(request):
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def _serve(port: int) -> None:
    # One log line per request to a terminal would measure the terminal: warnings only.
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    _setup_django()
    from django.conf import settings
    from django.urls import include, path

    # The project's tenant routes plus the bare view, on the same stack and middleware.
    module = sys.modules[__name__]
    module.urlpatterns = [
        path("bench/bare/", bare, name="bench-bare"),
        path("", include("config.urls_tenants")),
    ]
    settings.ROOT_URLCONF = __name__
    import uvicorn

    from config.asgi import application

    uvicorn.run(
        application, host="127.0.0.1", port=port, log_level="warning", access_log=False,
        lifespan="off",
    )


# --- Seed -----------------------------------------------------------------------------------


def _prepare() -> dict:
    """The tenant, its teacher and a student, seeded once; session cookies for both."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from tenants import hosts, services
    from tenants.models import Membership, Role, Tenant, User

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        teacher = User.objects.create_user(email="bench-dash-teacher@example.com", password=None)
        tenant = services.tenant_create(name="Bench Dash", slug=SLUG, kind="school", owner=teacher)
        Membership.objects.filter(user=teacher, tenant=tenant).update(role=Role.OWNER)
    teacher = Membership.objects.get(tenant=tenant, role=Role.OWNER).user
    if Membership.objects.filter(tenant=tenant, role=Role.STUDENT).count() < STUDENTS:
        from tests.support import scale

        started = time.perf_counter()
        scale.seed(tenant=tenant, teacher=teacher, students=STUDENTS, replies=REPLIES, tag="bench")
        print(f"# seeded {STUDENTS} students, {REPLIES} replies in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    student = (
        Membership.objects.filter(tenant=tenant, role=Role.STUDENT).order_by("pk").first().user
    )
    cookies = {}
    for name, user in (("teacher", teacher), ("student", student)):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies[name] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return {"host": hosts.tenant_hostname(SLUG), "cookies": cookies}


# --- Load -----------------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (
        line.split(":", 1) for line in lines[1:] if ":" in line
    )}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _worker(port: int, request: bytes, until: float, record: list[float], errors: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            elapsed = time.perf_counter() - started
            if status != 200:
                errors.append(status)
            record.append(elapsed)
    finally:
        writer.close()


async def _load(port: int, host: str, path: str, cookie: str, seconds: float) -> tuple:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors: list[int] = []
    # Warm up (caches, connections), then measure.
    await asyncio.gather(*[
        _worker(port, request, time.perf_counter() + WARMUP_SECONDS, [], errors)
        for _ in range(CONNECTIONS)
    ])
    started = time.perf_counter()
    await asyncio.gather(*[
        _worker(port, request, started + seconds, latencies, errors)
        for _ in range(CONNECTIONS)
    ])
    wall = time.perf_counter() - started
    return latencies, wall, errors


def _figures(latencies: list[float], wall: float) -> dict:
    ordered = sorted(latencies)
    return {
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "rps": len(ordered) / wall,
        "n": len(ordered),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    _setup_django()
    setup = _prepare()
    from django.db import connections

    connections.close_all()
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]))
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port)],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the ASGI server did not start") from None
                time.sleep(0.3)
        results = {}
        for name, path, who in (
            ("bare", "/bench/bare/", "teacher"),
            ("teacher", "/dashboard/", "teacher"),
            ("student", "/dashboard/", "student"),
        ):
            latencies, wall, errors = asyncio.run(
                _load(port, setup["host"], path, setup["cookies"][who], SECONDS)
            )
            if errors:
                raise RuntimeError(f"{name}: {len(errors)} responses were not 200: {errors[:5]}")
            results[name] = _figures(latencies, wall)
            figures = results[name]
            print(
                f"# {name:8s} {path:14s} p50 {figures['p50']:.2f} ms  p99 {figures['p99']:.2f} ms"
                f"  {figures['rps']:.0f} req/s  ({figures['n']} requests, {CONNECTIONS} "
                "connections)",
                flush=True,
            )
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        from config import embedded_db

        connections.close_all()
        embedded_db.stop()  # this script's own server (.data/postgres-bench-dash)
    for name in ("teacher", "student"):
        for figure in ("p50", "p99"):
            print(f"BENCH dashboard_{name}_{figure}_ms {results[name][figure]:.2f} ms")
        print(f"BENCH dashboard_{name}_throughput_rps {results[name]['rps']:.0f}")
    print(f"BENCH bare_view_p50_ms {results['bare']['p50']:.2f} ms")
    print(f"BENCH bare_view_p99_ms {results['bare']['p99']:.2f} ms")
    print(f"BENCH bare_view_throughput_rps {results['bare']['rps']:.0f}")
    worst_p99 = max(results["teacher"]["p99"], results["student"]["p99"])
    worst_rps = min(results["teacher"]["rps"], results["student"]["rps"])
    print(f"BENCH dashboard_p99_ms {worst_p99:.2f} ms")
    print(f"BENCH dashboard_throughput_vs_bare {worst_rps / results['bare']['rps']:.2f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("role", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    if arguments.role == "serve":
        _serve(arguments.port)
    else:
        sys.exit(main())
