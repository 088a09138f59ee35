"""Practika's pages under load, beside a bare Django under the same web server, in one run.

    make bench                                   (or: PYTHONPATH=platform:. python bench/pages.py)
    BENCH page_<name>_vs_bare <ratio>            target ≥ 0.25 (issue 12, done-when 1)
    BENCH page_<name>_vs_ceiling <ratio>         target ≥ 0.15
    BENCH page_<name>_p50_ms <value> ms          target ≤ 5 (one connection)
    BENCH page_<name>_p99_ms <value> ms          target ≤ 15 (one connection)
    BENCH page_sql_max <n> statements            target ≤ 6 (any tenant page, SET search_path too)

Three servers, started by this script on loopback and loaded by the same client (wrk) the same
way, one at a time:

- Practika with its production settings (config.settings.production) under the production web
  command for pages, `config.webserver.command()` (gunicorn's threaded workers serving
  config.wsgi; the websockets have a server of their own, not measured here), with 2 workers;
- a bare Django (bench/bare_site: one view, no middleware, no database) under that same command
  and worker count: `page_<name>_vs_bare` is a page's throughput over it;
- the bare Django under gunicorn with 2 sync workers, the WSGI ceiling of the machine:
  `page_<name>_vs_ceiling`.

Pages, each checked to answer 200 with its own content before and after it is loaded (so a
redirect to the login page is never measured): teacher_dashboard, student_dashboard,
exercise_list, inbox, student_exercise, compare (the HTML page) as the tenant's owner or a
student of it (the cookies a signed-in browser sends: the session and its CSRF secret), and
public_home and login on the public site as a first-time visitor (no cookie). Each is loaded at 16
connections (throughput) after a warm-up, then at 1 connection, where no request waits for
another (p50, p99). The bare servers are loaded before, between and after the pages and their
median is used, because the machine is shared and its speed drifts. After each run the bench
waits until the server is idle (it goes on answering what wrk left in flight). `page_sql_max`
counts the statements of a warm request to each tenant page in this process (Django's test
client, the same settings and database, at the psycopg level: tests/support/sql_count.py).

Data: a tenant of 1,000 students and 10,000 replies (tests/support/scale.py), seeded once in a
database of the bench's own on the machine's PostgreSQL (127.0.0.1:5432, user postgres,
`practika_bench_pages`, created if missing) and reused; Redis 127.0.0.1:6379 db 12 (flushed at
the start; `dropdb -h 127.0.0.1 -U postgres practika_bench_pages` makes the next run seed
again). DATABASE_URL and REDIS_URL override both (a given Redis is not flushed). Without
PostgreSQL or Redis the script says so and exits 2; it exits 1 when a server fails to start or
a page fails (after measuring the others), never for a missed target: it reports figures.

Environment: BENCH_PAGES_SECONDS (each 16-connection run, default 8), BENCH_PAGES_LATENCY_SECONDS
(each 1-connection run, default 5), BENCH_PAGES_WARMUP_SECONDS (default 2),
BENCH_PAGES_CONNECTIONS (default 16). Server logs: .data/bench-pages/.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data" / "bench-pages"
LUA = Path(__file__).with_suffix(".lua")
CONNECTIONS = int(os.environ.get("BENCH_PAGES_CONNECTIONS", "16"))
SECONDS = max(1, round(float(os.environ.get("BENCH_PAGES_SECONDS", "8"))))
LATENCY_SECONDS = max(1, round(float(os.environ.get("BENCH_PAGES_LATENCY_SECONDS", "5"))))
WARMUP_SECONDS = max(1, round(float(os.environ.get("BENCH_PAGES_WARMUP_SECONDS", "2"))))
WORKERS = 2
BASE_DOMAIN = "practika.test"
SLUG = "bench-pages"
STUDENTS, REPLIES = 1000, 10000
OWN_DATABASE = "practika_bench_pages"
DEFAULT_DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{OWN_DATABASE}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
START_TIMEOUT_S = 90
DRAIN_TIMEOUT_S = 20


class BenchError(Exception):
    """A failure that makes the figures meaningless: a server that does not start, a page that
    does not answer 200 with its content."""


# --- The services the bench needs -----------------------------------------------------------


def _database_problem(url: str) -> str | None:
    """None when the database at `url` can be used (the bench's own one is created)."""
    import psycopg

    if url == DEFAULT_DATABASE_URL:
        try:
            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres",
                connect_timeout=5,
                autocommit=True,
            ) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [OWN_DATABASE]
                ).fetchone()
                if not exists:
                    connection.execute(f'CREATE DATABASE "{OWN_DATABASE}"')
        except psycopg.Error as error:
            return f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {error}"
    try:
        with psycopg.connect(url, connect_timeout=5):
            return None
    except psycopg.Error as error:
        where = urlparse(url)
        return f"PostgreSQL ({where.hostname}:{where.port}{where.path}) cannot be used: {error}"


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        client.ping()
        if url == DEFAULT_REDIS_URL:
            client.flushdb()  # the bench's own db: no cached value of an earlier run survives
        return None
    except redis.RedisError as error:
        return f"Redis at {url} is not reachable: {error}"


def _production_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """What config.settings.production requires, for plain http on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PRACTIKA_BASE_DOMAIN": BASE_DOMAIN,
        "PRACTIKA_PUBLIC_SCHEME": "http",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # No TLS in front of it: no redirect to https. (Secure cookies stay on: the client
        # sends its Cookie header itself.)
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        # Media in S3 as in production. Signing a playback URL needs no network; any call that
        # did would meet a closed port on loopback, never the internet.
        "AWS_STORAGE_BUCKET_NAME": "practika-bench",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "bench-not-a-key",
        "AWS_SECRET_ACCESS_KEY": "bench-not-a-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


# --- Data: the tenant, its members and the pages --------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    host: str
    path: str
    cookie: str  # the Cookie header; "" for a visitor
    marker: str  # text only this page, seen by this member, contains
    tenant: bool  # a tenant page (counted in page_sql_max)


def _static_is_stale() -> bool:
    """Whether a static file changed since the last collectstatic (it takes tens of seconds)."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    return any(
        Path(storage.path(path)).stat().st_mtime > collected
        for finder in finders.get_finders()
        for path, storage in finder.list([])
    )


def _prepare() -> list[Page]:
    """Migrate, collect static files, seed the tenant once; the pages with session cookies."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils.crypto import get_random_string
    from django_tenants.utils import tenant_context

    from learning.models import Reply
    from tenants import hosts, services
    from tenants.models import Membership, Role, Tenant, User

    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    print(f"# migrated in {time.perf_counter() - started:.1f} s")
    if _static_is_stale():
        started = time.perf_counter()
        # Production serves hashed static names from a manifest, as the image builds it.
        call_command("collectstatic", interactive=False, verbosity=0)
        print(f"# collected static files in {time.perf_counter() - started:.1f} s", flush=True)
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        from tests.support import scale

        started = time.perf_counter()
        with transaction.atomic():  # all or nothing: an interrupted seed leaves no half tenant
            owner = User.objects.create_user(email="bench-pages-owner@example.com", password=None)
            tenant = services.tenant_create(
                name="Bench Pages", slug=SLUG, kind="school", owner=owner
            )
            scale.seed(tenant=tenant, teacher=owner, students=STUDENTS, replies=REPLIES, tag="bp")
        print(
            f"# seeded {STUDENTS} students, {REPLIES} replies in "
            f"{time.perf_counter() - started:.1f} s"
        )
    # Planner statistics, as autovacuum keeps them in production: a server with autovacuum off
    # (this machine's) plans the freshly seeded tables as empty, and the inbox's count then
    # takes seconds in a nested loop instead of milliseconds.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    owner = Membership.objects.get(tenant=tenant, role=Role.OWNER).user
    student = (
        Membership.objects.filter(tenant=tenant, role=Role.STUDENT).order_by("pk").first().user
    )
    with tenant_context(tenant):
        reply = Reply.objects.filter(student=student).select_related("exercise").order_by("pk")[0]
        exercise, reply_id = reply.exercise, reply.public_id

    def session_cookie(user) -> str:
        """The cookies a signed-in member's browser sends: the session's and the CSRF
        secret's (the login form set one, and logging in rotated it)."""
        client = Client()
        client.force_login(user)  # a session of whatever engine the settings use
        name = settings.SESSION_COOKIE_NAME
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        return f"{name}={client.cookies[name].value}; {settings.CSRF_COOKIE_NAME}={csrf}"

    teacher, pupil = session_cookie(owner), session_cookie(student)
    host = hosts.tenant_hostname(SLUG)
    rows = [  # name, host, path, cookie, what only that page shows that member
        ("teacher_dashboard", host, "/dashboard/", teacher, "<h1>Teaching dashboard</h1>"),
        ("student_dashboard", host, "/dashboard/", pupil, "<h1>Your practice</h1>"),
        ("exercise_list", host, "/teach/exercises/", teacher, "<h1>Exercises</h1>"),
        ("inbox", host, "/teach/inbox/", teacher, "<h1>Inbox</h1>"),
        ("student_exercise", host, f"/exercises/{exercise.public_id}/", pupil,
         f"<h1>{exercise.title}</h1>"),
        # The teacher reviewing the student's reply (its id is in the page's player settings).
        ("compare", host, f"/replies/{reply_id}/", teacher, str(reply_id)),
        ("public_home", BASE_DOMAIN, "/", "", "<h1>Teach music with video</h1>"),
        ("login", BASE_DOMAIN, "/accounts/login/", "", "<h1>Log in</h1>"),
    ]  # fmt: skip
    return [Page(*row, tenant=row[1] != BASE_DOMAIN) for row in rows]


def _sql_counts(pages: list[Page]) -> dict[str, int]:
    """Statements of a warm request to each page (the first one fills the caches)."""
    from django.test import Client

    from tests.support.sql_count import count_statements

    counts = {}
    logging.disable(logging.INFO)  # the request log lines of this process are not the bench's
    try:
        for page in pages:
            client = Client()
            for cookie in filter(None, page.cookie.split("; ")):
                name, value = cookie.split("=", 1)
                client.cookies[name] = value
            client.get(page.path, headers={"host": page.host})
            with count_statements() as statements:
                response = client.get(page.path, headers={"host": page.host})
            if response.status_code != 200:
                raise BenchError(f"{page.name}: {response.status_code} in process")
            counts[page.name] = len(statements)
    finally:
        logging.disable(logging.NOTSET)
    return counts


# --- Servers --------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path
    host: str  # what it answers `ready` for
    ready: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(
    name: str, argv: list[str], env: dict[str, str], port: int, host: str, ready: str
) -> Server:
    log = DATA / f"{name}.log"
    with log.open("wb") as output:
        # A session of its own: stopping it stops its workers too (the whole process group).
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(name, port, process, log, host, ready)


def _stop(server: Server) -> None:
    if server.process.poll() is not None:
        return
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _get(port: int, host: str, path: str, cookie: str = "") -> tuple[int, str]:
    # Generous: after a run the server still answers the requests wrk left in flight.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _last_error(server: Server) -> str:
    """The last error the server logged (Practika logs JSON lines), to say why in one line."""
    last = ""
    for line in server.log.read_text(errors="replace").splitlines():
        if '"level": "ERROR"' in line:
            last = line
    try:
        entry = json.loads(last)
    except ValueError:
        return f" (see {server.log})"
    cause = (entry.get("exception") or entry.get("message") or "").strip().splitlines()[-1:]
    return f"; last error logged: {' '.join(cause)} (see {server.log})"


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            status, _ = _get(server.port, server.host, server.ready)
            if status == 200:
                return
        except OSError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise BenchError(f"{server.name} did not start ({server.log}):\n{tail}")
        time.sleep(0.3)


def _start_servers(
    stack: contextlib.ExitStack, production_env: dict[str, str]
) -> dict[str, Server]:
    from config import webserver

    path = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    practika_env = {**os.environ, **production_env, "PYTHONPATH": path}
    bare_env = {**os.environ, "PYTHONPATH": path}
    bare_env.pop("DJANGO_SETTINGS_MODULE", None)
    # The bare site has Practika's entry point modules (asgi, wsgi): whichever the web command
    # serves, the bare Django is served the same way, with the same workers and threads.
    bare_app = webserver.DEFAULT_APP.replace("config.", "bench.bare_site.", 1)
    ports = {name: _free_port() for name in ("practika", "bare", "ceiling")}
    commands = {
        "practika": (webserver.command(host="127.0.0.1", port=ports["practika"], workers=WORKERS),
                     practika_env, BASE_DOMAIN, "/healthz"),
        "bare": (webserver.command(app=bare_app, host="127.0.0.1", port=ports["bare"],
                                   workers=WORKERS), bare_env, "127.0.0.1", "/"),
        # The ceiling: WSGI's sync workers, one request at a time per process, nothing between.
        "ceiling": ([sys.executable, "-m", "gunicorn", "bench.bare_site.wsgi:application",
                     "--bind", f"127.0.0.1:{ports['ceiling']}", "--workers", str(WORKERS),
                     "--worker-class", "sync", "--no-control-socket", "--log-level", "warning"],
                    bare_env, "127.0.0.1", "/"),
    }  # fmt: skip
    servers = {}
    for name, (argv, env, host, ready) in commands.items():
        servers[name] = _start(name, argv, env, ports[name], host, ready)
        stack.callback(_stop, servers[name])
    for name, (argv, *_) in commands.items():
        _wait_ready(servers[name])
        print(f"# {name}: {' '.join(argv[1:4])} … on port {servers[name].port}", flush=True)
    return servers


# --- Load -----------------------------------------------------------------------------------


# Connections each server dropped without an answer, over the run.
socket_errors: dict[str, int] = {}


def _cpu_ticks(group: int) -> int:
    """CPU time (user and system, in clock ticks) used so far by a process group's processes."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # proc(5): pgrp, then utime and stime at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total


def _drain(server: Server) -> None:
    """Wait until the server is idle again. It goes on answering the requests wrk left in
    flight after a run (in its threads), which would slow the next one;
    idle is under a tenth of a core for half a second (bounded: a busy machine may never be)."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    before = _cpu_ticks(server.process.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_ticks(server.process.pid)
        if now - before < 0.1 * 0.5 * tick:
            return
        before = now


def _wrk(server: Server, host: str, path: str, cookie: str, *, connections: int, seconds: int):
    argv = [
        "wrk", "--threads", str(min(WORKERS, connections)),
        "--connections", str(connections), "--duration", f"{seconds}s",
        "--timeout", f"{seconds + 30}s", "--script", str(LUA), "--header", f"Host: {host}",
        *(["--header", f"Cookie: {cookie}"] if cookie else []),
        f"http://127.0.0.1:{server.port}{path}",
    ]  # fmt: skip
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        _drain(server)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish its {seconds} s run on {host}{path}") from None
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise BenchError(f"wrk failed on {host}{path}: {result.stderr or result.stdout}")
    figures = json.loads(lines[-1])
    if figures["status"]:
        raise BenchError(
            f"{host}{path}: {figures['status']} answers of 400 or more{_last_error(server)}"
        )
    # Connections dropped without an answer: a worker that died or was restarted (see its log).
    dropped = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    if dropped:
        socket_errors[server.name] = socket_errors.get(server.name, 0) + dropped
        print(f"# {host}{path}: {dropped} socket errors or timeouts (see {server.log})", flush=True)
    if not figures["requests"]:
        # Slow, not broken: no answer within the run, so each took at least that long.
        print(f"# {host}{path}: no request finished within {seconds} s", flush=True)
        figures["p50_us"] = figures["p99_us"] = seconds * 1_000_000
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "requests": figures["requests"],
    }


def _check(server: Server, page: Page) -> None:
    for attempt in range(3):
        try:
            status, body = _get(server.port, page.host, page.path, page.cookie)
            break
        except OSError as error:  # a worker restarting answers the next one
            if attempt == 2:
                where = f"{page.name} ({page.host}{page.path})"
                raise BenchError(f"{where} did not answer: {error}") from None
            time.sleep(2)
    if status != 200 or page.marker not in body:
        raise BenchError(
            f"{page.name} ({page.host}{page.path}) answered {status} without its content "
            f"({page.marker!r}); it is not measured{_last_error(server)}"
        )


def _load_bare(servers: dict[str, Server], rounds: dict[str, list[float]]) -> None:
    for name in ("bare", "ceiling"):
        server = servers[name]
        _wrk(server, "127.0.0.1", "/", "", connections=CONNECTIONS, seconds=1)
        figures = _wrk(server, "127.0.0.1", "/", "", connections=CONNECTIONS, seconds=SECONDS)
        rounds[name].append(figures["rps"])
        print(f"# {name:8s} {figures['rps']:7.0f} req/s at {CONNECTIONS} connections", flush=True)


def _load_page(server: Server, page: Page) -> dict:
    _check(server, page)
    args = (server, page.host, page.path, page.cookie)
    _wrk(*args, connections=CONNECTIONS, seconds=WARMUP_SECONDS)
    load = _wrk(*args, connections=CONNECTIONS, seconds=SECONDS)
    alone = _wrk(*args, connections=1, seconds=LATENCY_SECONDS)
    _check(server, page)
    print(
        f"# {page.name:18s} {load['rps']:7.1f} req/s at {CONNECTIONS} connections (p50 "
        f"{load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms); alone p50 {alone['p50_ms']:.2f} "
        f"ms, p99 {alone['p99_ms']:.2f} ms ({alone['requests']} requests)",
        flush=True,
    )
    return {"rps": load["rps"], "p50_ms": alone["p50_ms"], "p99_ms": alone["p99_ms"]}


def _measure(pages: list[Page], production_env: dict[str, str]) -> int:
    with contextlib.ExitStack() as stack:
        servers = _start_servers(stack, production_env)
        for page in pages:
            _check(servers["practika"], page)
        sql = _sql_counts(pages)
        for page in pages:
            print(f"# {page.name:18s} {sql[page.name]} SQL statements (a warm request)")
        rounds: dict[str, list[float]] = {"bare": [], "ceiling": []}
        results, failed = {}, []
        _load_bare(servers, rounds)  # before, between and after the pages
        for index, page in enumerate(pages):
            try:
                results[page.name] = _load_page(servers["practika"], page)
            except BenchError as error:  # the others are still measured; the exit status says
                print(f"bench/pages.py: {error}", file=sys.stderr, flush=True)
                failed.append(page.name)
            if index == len(pages) // 2 - 1:
                _load_bare(servers, rounds)
        _load_bare(servers, rounds)
        alone = {
            name: _wrk(servers[name], "127.0.0.1", "/", "", connections=1,
                       seconds=LATENCY_SECONDS)
            for name in ("bare", "ceiling")
        }  # fmt: skip
    bare, ceiling = statistics.median(rounds["bare"]), statistics.median(rounds["ceiling"])
    for page in (page for page in pages if page.name in results):
        figures = results[page.name]
        print(f"BENCH page_{page.name}_rps {figures['rps']:.1f} req/s")
        print(f"BENCH page_{page.name}_vs_bare {figures['rps'] / bare:.3f}")
        print(f"BENCH page_{page.name}_vs_ceiling {figures['rps'] / ceiling:.3f}")
        print(f"BENCH page_{page.name}_p50_ms {figures['p50_ms']:.2f} ms")
        print(f"BENCH page_{page.name}_p99_ms {figures['p99_ms']:.2f} ms")
    print(f"BENCH page_bare_rps {bare:.0f} req/s")
    print(f"BENCH page_ceiling_rps {ceiling:.0f} req/s")
    print(f"BENCH page_bare_p50_ms {alone['bare']['p50_ms']:.2f} ms")
    print(f"BENCH page_ceiling_p50_ms {alone['ceiling']['p50_ms']:.2f} ms")
    print(f"BENCH page_socket_errors {sum(socket_errors.values())}")
    worst = max(sql[page.name] for page in pages if page.tenant)
    print(f"BENCH page_sql_max {worst} statements")
    if failed:
        print(f"bench/pages.py: not measured: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    # `kill` of the bench stops its servers as Ctrl-C does (the ExitStack unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        print("bench/pages.py: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    problem = _database_problem(database_url) or _redis_problem(redis_url)
    if problem:
        print(f"bench/pages.py: {problem}", file=sys.stderr)
        return 2
    production_env = _production_environment(database_url, redis_url)
    os.environ.update(production_env)
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    DATA.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.db import connections

    try:
        pages = _prepare()
        connections.close_all()
        return _measure(pages, production_env)
    except BenchError as error:
        print(f"bench/pages.py: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the servers are stopped by then
        print("bench/pages.py: interrupted", file=sys.stderr)
        return 130
    finally:
        connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
