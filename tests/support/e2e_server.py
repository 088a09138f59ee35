"""A live Practika for the browser tests: the real ASGI web server (uvicorn) and a real Celery
worker, as two processes, on the test session's database.

Why processes and not pytest-django's `live_server`: the browser must reach tenants by host
name (`school-a.practika.test:<port>`, which Chromium maps to loopback), uploads must be
processed by a worker that takes tasks from a broker like in production, and the data the
browser creates must be committed where both processes see it. `live_server` runs in a thread
of the test process with its transactions, and the test settings' in-memory broker does not
cross processes.

The broker is kombu's filesystem transport in a temporary folder: no Redis or RabbitMQ is
needed, so this runs on a fresh machine. Private media, cache and broker live in the same
temporary folder, so nothing is shared with `make dev` or other test runs.

Run as a module, it is one of the two processes:

    python -m tests.support.e2e_server web    --port 8123 --data /tmp/x
    python -m tests.support.e2e_server worker --data /tmp/x

with DATABASE_URL naming the test database (see `LiveStack`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_DOMAIN = "practika.test"


def _configure(data: Path, port: int) -> None:
    """Settings for both processes: development settings pointed at the test database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["PRACTIKA_BASE_DOMAIN"] = BASE_DOMAIN
    os.environ["PRACTIKA_PUBLIC_PORT"] = f":{port}"
    os.environ["PRACTIKA_PRIVATE_MEDIA_ROOT"] = str(data / "private-media")
    os.environ["PRACTIKA_MEDIA_ROOT"] = str(data / "media")
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    # Email goes to files in the data folder, where a test reads it (LiveStack.emails).
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    import django
    from django.conf import settings

    django.setup()
    # Settings read lazily (by Celery, the cache framework) can still be changed here.
    broker = data / "broker"
    (broker / "out").mkdir(parents=True, exist_ok=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker / "out"),
        "data_folder_out": str(broker / "out"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),  # kombu's default is ./control
        "store_processed": False,
    }
    settings.EMAIL_FILE_PATH = str(data / "mail")
    from config.celery_app import app

    # The Celery app may have read its settings already; give it the broker directly too.
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    # The test session's users were created with the test settings' fast hasher; with it
    # first, logging in never re-hashes (and rewrites) their passwords for later tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(data / "cache"),
            "KEY_FUNCTION": "config.cache_keys.make_key",
            "REVERSE_KEY_FUNCTION": "config.cache_keys.reverse_key",
        }
    }


PART_PUT = re.compile(r"^/uploads/[^/]+/parts/(\d+)/?$")


class PartPutLog:
    """Writes a line for each part that reaches the local upload endpoint (PUT
    /uploads/<token>/parts/<n>): its number, when it arrived (`start`), when its answer began
    (`end`: a browser sending parts one after another cannot start the next before it) and the
    status. The uploader's browser tests count and overlap them (`LiveStack.part_puts`)."""

    def __init__(self, app, path: Path):
        self.app = app
        self.path = path

    async def __call__(self, scope, receive, send):
        match = (
            scope["type"] == "http" and scope["method"] == "PUT" and PART_PUT.match(scope["path"])
        )
        if not match:
            return await self.app(scope, receive, send)
        started, answer = time.time(), {}

        async def send_noting_status(message):
            if message["type"] == "http.response.start":
                answer["status"], answer["at"] = message["status"], time.time()
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            entry = {
                "part": int(match[1]),
                "start": started,
                "end": answer.get("at", time.time()),
                "status": answer.get("status"),
            }
            with self.path.open("a") as log:
                log.write(json.dumps(entry) + "\n")


class PolicyHeader:
    """Sends `policy` as every response's Content-Security-Policy: a test passes the production
    settings' policy (PRACTIKA_E2E_CONTENT_SECURITY_POLICY) to check pages under it, although
    the stack runs the development settings, which send none."""

    def __init__(self, app, policy: str):
        self.app = app
        self.policy = policy.encode()

    async def __call__(self, scope, receive, send):
        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                headers = [
                    h
                    for h in message.get("headers", [])
                    if h[0].lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", self.policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy if scope["type"] == "http" else send)


def _serve_web(port: int, data: Path) -> None:
    import uvicorn
    from django.conf import settings

    from config.asgi import application

    app = PartPutLog(application, data / "part-puts.jsonl")
    if policy := os.environ.get("PRACTIKA_E2E_CONTENT_SECURITY_POLICY"):
        app = PolicyHeader(app, policy)
    # The same trusted proxies as production's web command (PRACTIKA_TRUSTED_PROXIES).
    uvicorn.run(
        app,
        host="127.0.0.1", port=port, log_level="warning", lifespan="off",
        proxy_headers=True, forwarded_allow_ips=",".join(settings.TRUSTED_PROXIES),
    )


def _serve_worker() -> None:
    from config.celery_app import app

    app.worker_main(
        ["worker", "--pool", "solo", "--queues", "video,default", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["web", "worker"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    _configure(args.data, args.port)
    if args.role == "web":
        _serve_web(args.port, args.data)
    else:
        _serve_worker()


# --- Used by the tests ----------------------------------------------------------------------


def free_port() -> int:
    """A free local port; from PRACTIKA_TEST_PORTS ("9700-9799") when set (a shared machine
    where each person keeps to a range), else any the system offers."""
    wanted = os.environ.get("PRACTIKA_TEST_PORTS", "")
    if wanted:
        low, high = (int(part) for part in wanted.split("-"))
        for port in range(low, high + 1):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"no free port in PRACTIKA_TEST_PORTS={wanted}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """The URL of the database the test session uses (the test database, not the dev one)."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or ""
    port = settings_dict.get("PORT") or ""
    if host.startswith("/"):
        return f"postgresql://{credentials}/{settings_dict['NAME']}?host={host}"
    return f"postgresql://{credentials}{host}{':' + port if port else ''}/{settings_dict['NAME']}"


@dataclass
class LiveStack:
    port: int
    data: Path
    processes: list[subprocess.Popen]

    def url(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.{BASE_DOMAIN}:{self.port}{path}"

    def emails(self) -> list[str]:
        """Every email the live stack has sent, oldest first, as raw message text."""
        files = sorted((self.data / "mail").glob("*.log"), key=lambda f: f.stat().st_mtime)
        return [file.read_text(errors="replace") for file in files]

    def forget_cached(self) -> None:
        """Empty the live processes' cache (a file cache, not the test process's locmem one):
        for a test that changes a tenant behind their back, where a model save in the test
        process cannot drop the copies the server has cached."""
        from django.core.cache.backends.filebased import FileBasedCache

        FileBasedCache(str(self.data / "cache"), {}).clear()

    def part_puts(self) -> list[dict]:
        """The part PUTs the local upload endpoint has answered, in the order they ended."""
        log = self.data / "part-puts.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def logs(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.data / name).read_text(errors='replace')[-4000:]}"
            for name in ("web.log", "worker.log")
            if (self.data / name).exists()
        )


def _spawn(role: str, data: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    log = (data / f"{role}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.e2e_server", role, "--port", str(port),
         "--data", str(data)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    # Each process leads its own session (start_new_session): stop exactly that group.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


VENDOR = ROOT / "templates" / "static" / "vendor"


@contextmanager
def live_stack(*, database: str, data: Path, extra_env: dict[str, str] | None = None):
    """Start the web server and a worker on `database` (with `extra_env` added to their
    environment, e.g. a bucket for S3 mode); stop both afterwards."""
    # The pages load Uppy and uPlot from the folder `make` builds (frontend/build.mjs).
    built = ("uppy.js", "uplot/uPlot.iife.min.js")
    missing = [name for name in built if not (VENDOR / name).exists()]
    if missing:
        raise RuntimeError(f"templates/static/vendor lacks {missing}: run `make frontend` first")
    port = free_port()
    env = dict(os.environ) | (extra_env or {})
    env["DATABASE_URL"] = database
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    env["PYTHONUNBUFFERED"] = "1"
    processes = [_spawn("web", data, port, env), _spawn("worker", data, port, env)]
    stack = LiveStack(port=port, data=data, processes=processes)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError as error:
                if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                    raise RuntimeError(f"The live server did not start.\n{stack.logs()}") from error
                time.sleep(0.3)
        yield stack
    finally:
        for process in processes:
            _stop(process)


if __name__ == "__main__":
    main()


# The production settings' Content Security Policy, printed by a child process that loads them.
_POLICY = """
import django
django.setup()
from django.conf import settings
from csp.utils import build_policy
print(build_policy(config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]))
"""


def production_policy(**extra_env: str) -> str:
    """The policy the production settings send (with `extra_env` set, e.g. a bucket's origin in
    PRACTIKA_CSP_MEDIA_ORIGINS); a live stack sends it on every page when given as
    PRACTIKA_E2E_CONTENT_SECURITY_POLICY (PolicyHeader), so browser tests run under it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "policy-test-" + "p" * 50,
        "PRACTIKA_BASE_DOMAIN": BASE_DOMAIN,
        "DATABASE_URL": "postgresql://nobody@localhost/none",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-c", _POLICY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    policy = result.stdout.strip().splitlines()[-1]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy
    return policy
