"""CPU per page request, in one process, through the production ASGI application.

    make bench                             (or: PYTHONPATH=platform:. python bench/page_cpu.py)
    BENCH page_<name>_cpu_ms <value> ms          median CPU of one request (ASGI, production)
    BENCH page_<name>_wsgi_cpu_ms <value> ms     the same request through Django's WSGI handler
    BENCH page_bare_cpu_ms <value> ms            a bare Django view (bench/bare_site), ASGI

Wall-clock figures on a shared machine swing by several times from one minute to the next;
the CPU a request costs its process (`time.process_time()`: every thread of the process, so the
worker thread `sync_to_async` hands the page to is counted) barely moves. Each page of issue 12
is requested through `config.asgi.application` — body limits, Django's handler as
`config.asgi_handler` runs it, every middleware, the view, the templates — in one event loop,
with the production settings and the seeded tenant of bench/pages.py (same database, same
members, same pages and the same check that each answers 200 with its own content), PostgreSQL
and Redis on the machine. After a warm-up (caches filled, templates compiled) each page is
requested BENCH_PAGE_CPU_REQUESTS times (default 60), pages interleaved round by round so that a
busy minute costs every page alike, and the median is printed. The same requests through
`django.core.handlers.wsgi.WSGIHandler` show what serving pages under WSGI would save.

The request log lines are formatted as in production and written to /dev/null.

    python bench/page_cpu.py --profile student_exercise [--sort tottime] [--limit 40]

runs cProfile (process CPU clock) over that page's requests instead, through the WSGI handler
(cProfile sees one thread; under ASGI the page runs in a worker thread), and prints the top
functions. Same services and environment as bench/pages.py (DATABASE_URL, REDIS_URL; exit 2
without them, 1 when a page does not answer with its content).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from bench import pages as page_bench  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_PAGE_CPU_REQUESTS", "60"))
WARMUP = 5


def _headers(page) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", page.host.encode()), (b"x-forwarded-proto", b"https")]
    if page.cookie:
        headers.append((b"cookie", page.cookie.encode()))
    return headers


class AsgiClient:
    """Requests through an ASGI application in this process's event loop."""

    def __init__(self, application):
        self.application = application
        self.loop = asyncio.new_event_loop()

    def get(self, page) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": page.path,
            "raw_path": page.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": _headers(page),
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        answer = {"status": 0, "body": [], "received": False}

        async def receive():
            if answer["received"]:  # then only a disconnect, which never comes
                await asyncio.Future()
            answer["received"] = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))

        self.loop.run_until_complete(self.application(scope, receive, send))
        return answer["status"], b"".join(answer["body"])


class WsgiClient:
    """The same requests through production's WSGI handler (Django's, with each path's URL
    resolution remembered: config.wsgi)."""

    def __init__(self):
        from config.wsgi import PageWSGIHandler

        self.handler = PageWSGIHandler()

    def get(self, page) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": page.path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": page.host,
            "HTTP_X_FORWARDED_PROTO": "https",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if page.cookie:
            environ["HTTP_COOKIE"] = page.cookie
        status = []
        body = self.handler(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            content = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        return int(status[0].split()[0]), content


def _check(client, page) -> None:
    status, body = client.get(page)
    if status != 200 or page.marker.encode() not in body:
        raise page_bench.BenchError(
            f"{page.name} ({page.host}{page.path}) answered {status} without its content "
            f"({page.marker!r}); it is not measured"
        )


def _cpu_ms(client, pages, requests: int) -> dict[str, float]:
    """Median CPU (ms) of a request to each page, pages interleaved round by round."""
    for page in pages:
        _check(client, page)
        for _ in range(WARMUP):
            client.get(page)
    samples: dict[str, list[float]] = {page.name: [] for page in pages}
    for _ in range(requests):
        for page in pages:
            started = time.process_time()
            client.get(page)
            samples[page.name].append((time.process_time() - started) * 1000)
    for page in pages:
        _check(client, page)
    return {name: statistics.median(values) for name, values in samples.items()}


def _quiet_request_log() -> None:
    """Format every log line as production does, into /dev/null instead of the terminal."""
    sink = open(os.devnull, "w")  # noqa: SIM115 (open for the life of the process)
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)


def _bare_page():
    return page_bench.Page("bare", "127.0.0.1", "/", "", "", tenant=False)


def _bare_cpu_ms(requests: int) -> float:
    """A bare Django's view through its ASGI application, in a child process (it has settings
    of its own)."""
    import subprocess

    code = (
        "import sys, time, statistics\n"
        f"sys.path[:0] = {[str(ROOT / 'platform'), str(ROOT)]!r}\n"
        "from bench import page_cpu\n"
        "from bench.bare_site.asgi import application\n"
        "client = page_cpu.AsgiClient(application)\n"
        "page = page_cpu._bare_page()\n"
        "print(page_cpu._cpu_ms(client, [page], %d)['bare'])\n" % requests
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    if result.returncode != 0:
        raise page_bench.BenchError(f"the bare Django failed: {result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def _profile(client, page, *, sort: str, limit: int, dump: str | None) -> None:
    _check(client, page)
    for _ in range(WARMUP):
        client.get(page)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(REQUESTS):
        client.get(page)
    profiler.disable()
    if dump:
        profiler.dump_stats(dump)  # for pstats' callers and callees
    stats = pstats.Stats(profiler, stream=sys.stdout)
    print(f"# {page.name}: {REQUESTS} requests; totals are for all of them")
    stats.strip_dirs().sort_stats(sort).print_stats(limit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", metavar="PAGE", help="profile one page instead")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative)")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--dump", metavar="FILE", help="also write the profile to FILE")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or page_bench.DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or page_bench.DEFAULT_REDIS_URL
    problem = page_bench._database_problem(database_url) or page_bench._redis_problem(redis_url)
    if problem:
        print(f"bench/page_cpu.py: {problem}", file=sys.stderr)
        return 2
    os.environ.update(page_bench._production_environment(database_url, redis_url))
    import django

    django.setup()
    from django.db import connections

    try:
        pages = page_bench._prepare()
        connections.close_all()
        if args.pages:
            wanted = set(args.pages.split(","))
            pages = [page for page in pages if page.name in wanted]
        from config.asgi import application  # sets Django up again: logging too

        _quiet_request_log()

        asgi = AsgiClient(application)
        if args.profile:
            page = next((page for page in pages if page.name == args.profile), None)
            if page is None:
                print(f"bench/page_cpu.py: no page {args.profile!r}", file=sys.stderr)
                return 2
            # Through WSGI: cProfile sees only its own thread, and under ASGI the page runs in
            # the worker thread sync_to_async hands it to.
            _profile(WsgiClient(), page, sort=args.sort, limit=args.limit, dump=args.dump)
            return 0
        through_asgi = _cpu_ms(asgi, pages, REQUESTS)
        through_wsgi = _cpu_ms(WsgiClient(), pages, REQUESTS)
        bare = _bare_cpu_ms(REQUESTS * 5)
    except page_bench.BenchError as error:
        print(f"bench/page_cpu.py: {error}", file=sys.stderr)
        return 1
    finally:
        connections.close_all()
    for page in pages:
        print(f"BENCH page_{page.name}_cpu_ms {through_asgi[page.name]:.2f} ms")
    for page in pages:
        print(f"BENCH page_{page.name}_wsgi_cpu_ms {through_wsgi[page.name]:.2f} ms")
    print(f"BENCH page_bare_cpu_ms {bare:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
