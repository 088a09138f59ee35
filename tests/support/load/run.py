"""Run the load test: everything production runs, on loopback, for a fixed time; then stop it all.

    result = run(seconds=300, users=200, tenants=20, uploads=60)

1. A fresh database of its own on the PostgreSQL server of DATABASE_URL (or the embedded one
   when there is none), dropped at the end; Redis at REDIS_URL, or a redis-server of its own on
   a free loopback port when there is none.
2. The recordings (clips.py), then the seed (seed.py, a child process).
3. The web server exactly as the image's `web` role starts it (`config.webserver.command`,
   with WEB_CONCURRENCY and WEB_THREADS set for this machine's cores) and a Celery worker as
   its `worker` role does (`celery -A config worker`, the same queues and concurrency), both
   with the production settings.
4. locust, headless, for `seconds` with `users` members (locustfile.py).
5. Every process started here is stopped (its whole process group), even when a step fails;
   the queues the worker read are purged, so no task outlives the database it belongs to.

Local storage (PRACTIKA_PRIVATE_MEDIA_ROOT in a scratch folder): uploads go through the upload
API to disk. Plain HTTP on loopback with X-Forwarded-Proto, as behind the load balancer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support.load import clips

ROOT = Path(__file__).resolve().parents[3]
BASE_DOMAIN = "practika.test"
WORKER_QUEUES = "default,billing,video"  # as infra/docker/entrypoint.sh's worker role
START_TIMEOUT_S = 90
# Uploads go to the local storage stand-in; in production they go to S3, not to the web
# server, so they count as errors but not in the page and API latency.
STORAGE_PREFIX = "storage "


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float


@dataclass
class LoadResult:
    seconds: float
    endpoints: list[Endpoint]
    overall: Endpoint  # every page and API request (not the storage stand-in)
    errors: int
    error_lines: list[str]
    uploads: dict
    timings: dict = field(default_factory=dict)
    # ERROR lines in the web server's and the worker's logs: how many, and the commonest kinds.
    server_error_count: int = 0
    server_errors: list[str] = field(default_factory=list)

    def report(self) -> str:
        width = max(len(e.name) for e in [*self.endpoints, self.overall])
        lines = [
            f"# {'endpoint':{width}s} {'requests':>8s} {'fail':>5s} {'p50 ms':>8s} "
            f"{'p95 ms':>8s} {'p99 ms':>8s} {'req/s':>7s}"
        ]
        for e in [*sorted(self.endpoints, key=lambda e: e.name), self.overall]:
            lines.append(
                f"# {e.name:{width}s} {e.requests:8d} {e.failures:5d} {e.p50:8.0f} {e.p95:8.0f} "
                f"{e.p99:8.0f} {e.rps:7.1f}"
            )
        lines.append(f"# uploads: {self.uploads}")
        lines.append(f"# timings: {self.timings}")
        lines += [f"# error: {line}" for line in self.error_lines]
        lines += [f"# server error: {line}" for line in self.server_errors]
        return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(times: dict[int, int], fraction: float) -> float:
    total = sum(times.values())
    if not total:
        return 0.0
    wanted = total * fraction
    seen = 0
    for value in sorted(times):
        seen += times[value]
        if seen >= wanted:
            return float(value)
    return float(max(times))


# --- Processes ------------------------------------------------------------------------------


class Processes:
    """Child processes, each leading its own process group; `stop_all` ends every group."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []
        self.last_env: dict = {}

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        self.last_env = env
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # A process group of its own (stopped as one), but this session: Linux shares the
            # CPU equally between sessions (autogroups), which would make the worker's nice
            # count for nothing against the web server.
            process_group=0,
        )
        log.close()
        self.running.append((name, process))
        return process

    def run(self, name: str, argv: list[str], env: dict, timeout: float) -> None:
        process = self.start(name, argv, env)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"{name} took longer than {timeout:.0f} s\n{self.tail(name)}"
            ) from None
        finally:
            self.stop(process)
        if code != 0:
            raise RuntimeError(f"{name} exited with {code}\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    @staticmethod
    def stop(process: subprocess.Popen, timeout: float = 30) -> None:
        """SIGTERM to the group (the web server's and Celery's children too), then SIGKILL to
        whatever is left of it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for _name, process in reversed(self.running):
            self.stop(process)


def _wait_http(url: str, host: str, process: subprocess.Popen, tail) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    # An http:// URL of our own on loopback.
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})  # noqa: S310
    while True:
        try:
            urllib.request.urlopen(request, timeout=3)  # noqa: S310 - our own loopback server
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start\n{tail()}") from None
            time.sleep(0.3)


def _wait_log(processes: Processes, name: str, process, needle: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while needle not in processes.tail(name, 100_000):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start\n{processes.tail(name)}")
        time.sleep(0.3)


# --- Database and Redis ---------------------------------------------------------------------


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url
    from config import embedded_db

    return embedded_db.url(embedded_db.start(stop_on_exit=True))


def _own_database(stack: ExitStack, server_url: str) -> str:
    """A fresh database on the same server, dropped when the stack closes."""
    import psycopg

    name = f"practika_load_{secrets.token_hex(4)}"
    parts = urlsplit(server_url)
    # Created and dropped from the server's maintenance database, which always exists.
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _redis(processes: Processes) -> tuple[str, bool]:
    """REDIS_URL, or a redis-server of our own on loopback; True when it is ours."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url, False
    port = _free_port()
    process = processes.start(
        "redis",
        [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
    )
    _wait_log(processes, "redis", process, "Ready to accept connections")
    return f"redis://127.0.0.1:{port}/0", True


def _environment(database_url: str, redis_url: str, data: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "CELERY_", "PRACTIKA_", "AWS_", "STRIPE_", "POSTHOG_", "SENTRY_", "EMAIL_")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PRACTIKA_BASE_DOMAIN=BASE_DOMAIN,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PRACTIKA_PRIVATE_MEDIA_ROOT=str(data / "private-media"),
        PRACTIKA_MEDIA_ROOT=str(data / "media"),
        # No mail leaves the machine (comment notifications may send some).
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        PYTHONUNBUFFERED="1",
    )
    return env


# --- The run --------------------------------------------------------------------------------


# The web server as a deployment on this machine would size it: two processes a core of four
# threads each. On two cores 4 x 4 answered sooner than 2 x 8 in each of three paired runs
# (p50 0.3-1.1 s against 0.7-1.6 s, p95 2.2-3.7 s against 2.6-3.8 s; docs/scaling.md).
WEB_WORKERS_PER_CORE = 2
WEB_THREADS = 4


def run(
    *, seconds: int, users: int = 200, tenants: int = 20, uploads: int = 60,
    web_workers: int | None = None,
) -> LoadResult:
    """Seed, start, load for `seconds`, stop; every process and the database go at the end."""
    timings: dict[str, object] = {}
    data = Path(tempfile.mkdtemp(prefix="practika-load-"))
    processes = Processes(data)
    started = time.perf_counter()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, data, ignore_errors=True)
        database_url = _own_database(stack, _server_url())
        after_stop: list[list[str]] = []
        stack.callback(_stop_everything, processes, after_stop)
        redis_url, own_redis = _redis(processes)
        env = _environment(database_url, redis_url, data)
        demo, reply = clips.made(ROOT / ".data" / "load-clips")
        timings["setup_s"] = round(time.perf_counter() - started, 1)

        mark = time.perf_counter()
        plan = data / "plan.json"
        # fmt: off
        processes.run("seed", [
            sys.executable, "-m", "tests.support.load.seed", "--tenants", str(tenants),
            "--members", str(users), "--demo", str(demo), "--out", str(plan),
        ], env, timeout=600)
        # fmt: on
        timings["seed_s"] = round(time.perf_counter() - mark, 1)
        timings["seed"] = processes.tail("seed", 1000).strip().splitlines()[-1].lstrip("# ")

        web_workers = web_workers or WEB_WORKERS_PER_CORE * (os.cpu_count() or 1)
        web, worker, port = _start_servers(processes, env, web_workers)
        if not own_redis:  # a shared Redis: leave no task behind for another run's worker
            after_stop.append([_celery(), "-A", "config", "purge", "-f", "-Q", WORKER_QUEUES])

        mark = time.perf_counter()
        summary_path = data / "summary.json"
        # fmt: off
        processes.run("locust", [
            sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
            "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 10)),
            "--run-time", f"{seconds}s", "--stop-timeout", "30", "--only-summary",
            "--host", f"http://127.0.0.1:{port}", "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
        ], env | {
            "LOAD_PLAN": str(plan), "LOAD_REPLY": str(reply), "LOAD_UPLOADS": str(uploads),
            "LOAD_REPLY_SECONDS": str(clips.SECONDS),
            "LOAD_SUMMARY": str(summary_path),
        }, timeout=seconds + 180)
        # fmt: on
        timings["load_s"] = round(time.perf_counter() - mark, 1)
        for name, process in (("web", web), ("worker", worker)):
            if process.poll() is not None:
                raise RuntimeError(f"{name} died during the run\n{processes.tail(name)}")
        result = _result(json.loads(summary_path.read_text()), timings)
        # The servers' own account of what went wrong, read before the folder goes.
        logged = _log_errors(processes, "web") | _log_errors(processes, "worker")
        result.server_error_count = sum(logged.values())
        result.server_errors = [
            f"{count} x {text}" for text, count in sorted(logged.items(), key=lambda i: -i[1])
        ][:12]
    return result


def _celery() -> str:
    return str(Path(sys.executable).with_name("celery"))


def _start_servers(processes: Processes, env: dict, web_workers: int):
    """The image's `web` and `worker` roles; returns both once they answer, and the port."""
    from config import webserver

    port = _free_port()
    web = processes.start(
        "web",
        webserver.command(host="127.0.0.1", port=port, workers=web_workers, threads=WEB_THREADS),
        env,
    )
    # Production runs the worker in tasks of its own (infra/terraform/ecs.tf); here it shares
    # two cores with the web server, PostgreSQL and locust, and its ffmpeg and analysis would
    # take them from the pages. At the lowest CPU priority it still gets every idle cycle
    # (BENCH load_uploads_ready says how far it got), and the latencies measure the web.
    # LOAD_WORKER_NICE=0 runs it as an equal.
    nice = ["nice", "-n", os.environ.get("LOAD_WORKER_NICE", "19")]
    # fmt: off
    worker = processes.start("worker", [
        *nice, _celery(), "-A", "config", "worker", "--queues", WORKER_QUEUES,
        "--concurrency", env.get("CELERY_CONCURRENCY", "2"), "--loglevel", "INFO",
    ], env)
    # fmt: on
    _wait_http(f"http://127.0.0.1:{port}/healthz", BASE_DOMAIN, web, lambda: processes.tail("web"))
    _wait_log(processes, "worker", worker, " ready.")
    return web, worker, port


def _stop_everything(processes: Processes, after_stop: list[list[str]]) -> None:
    processes.stop_all()
    env = processes.last_env
    for argv in after_stop:
        subprocess.run(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=60, check=False,
        )  # fmt: skip


def _log_errors(processes: Processes, name: str) -> dict[str, int]:
    """The ERROR lines of a server's log (JSON lines: the message and the exception's last
    line), counted by kind."""
    counts: dict[str, int] = {}
    for line in processes.tail(name, 20_000_000).splitlines():
        if "ERROR" not in line:
            continue
        try:
            entry = json.loads(line)
            exception = (entry.get("exception") or "").strip().splitlines()
            text = f"{entry.get('message')}: {exception[-1] if exception else ''}"
        except ValueError:
            text = line
        text = f"{name}.log: " + re.sub(r"[0-9a-f-]{36}", "<id>", text)[:500]
        counts[text] = counts.get(text, 0) + 1
    return counts


def _result(summary: dict, timings: dict) -> LoadResult:
    wall = summary["wall_s"]
    endpoints, merged, requests, failures = [], {}, 0, 0
    for e in summary["endpoints"]:
        endpoint = Endpoint(
            name=f"{e['name']}",
            requests=e["requests"],
            failures=e["failures"],
            p50=e["p50"],
            p95=e["p95"],
            p99=e["p99"],
            rps=e["rps"],
        )
        endpoints.append(endpoint)
        if e["name"].startswith(STORAGE_PREFIX) or e["method"] == "check":
            continue
        requests += e["requests"]
        failures += e["failures"]
        for ms, count in e["response_times"].items():
            merged[int(ms)] = merged.get(int(ms), 0) + count
    overall = Endpoint(
        name="all pages and API",
        requests=requests,
        failures=failures,
        p50=_percentile(merged, 0.50),
        p95=_percentile(merged, 0.95),
        p99=_percentile(merged, 0.99),
        rps=requests / wall if wall else 0.0,
    )
    errors = sum(e["failures"] for e in summary["endpoints"])
    lines = [f"{e['count']} x {e['method']} {e['name']}: {e['error']}" for e in summary["errors"]]
    return LoadResult(
        seconds=wall,
        endpoints=endpoints,
        overall=overall,
        errors=errors,
        error_lines=lines,
        uploads=summary["uploads"],
        timings=timings,
    )
