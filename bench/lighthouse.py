"""Lighthouse and axe-core on the main pages, logged in, in Debian's chromium.

    make bench                                   (or: python bench/lighthouse.py)
    BENCH lighthouse_<page>_<category> <score 0-100>
    BENCH a11y_violations <n>

Lighthouse 12 (npm, bench/lighthouse-tools: the last line that runs on Node 20; installed with
`npm ci` on the first run) with its mobile preset (simulated slow 4G and a 4x slower CPU), on
the public home, the teacher's and the student's dashboards and a compare page, with a session
cookie in the browser's jar (run.mjs says why not --extra-headers). Each page runs
LIGHTHOUSE_RUNS times (default 3) and the median score of each category is printed, since one
run on a busy machine says little; the reports stay in bench/results/. LIGHTHOUSE_PAGES=a,b
runs only those pages.
`a11y_violations` is the number of axe-core rules that fail, summed over the main pages of
every role (tests/support/page_tour.py) at 1280x800 and 390x844.

The server is production-like: DEBUG off, static files collected with hashed, compressed
names and served by WhiteNoise, the real ASGI application under uvicorn. Pages live on
`<slug>.localhost`, which browsers resolve to loopback and treat as a secure origin.
The database is the embedded PostgreSQL of PRACTIKA_EMBEDDED_PG_DIR (make bench gives each
run an empty one); the seed (a school, an exercise with a demonstration, a reply and a
comment, processed and aligned for real) takes a few seconds.

Targets (issue 13): performance >= 95 on the compare page and the dashboards, best practices
100, accessibility 100, 0 axe violations.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "bench" / "lighthouse-tools"
LIGHTHOUSE = TOOLS / "node_modules" / "lighthouse" / "cli" / "index.js"
RUN = TOOLS / "run.mjs"  # one Lighthouse run, with the session cookie in the browser
REPORTS = ROOT / "bench" / "results"  # the last run's reports, to open in a Lighthouse viewer
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))
SLUG = "bench-lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")


def _tools() -> None:
    """npm ci in bench/lighthouse-tools unless the installed lock is the current one."""
    stamp = TOOLS / "node_modules" / ".installed"
    lock = (TOOLS / "package-lock.json").read_text()
    if stamp.exists() and stamp.read_text() == lock and LIGHTHOUSE.exists():
        return
    if shutil.which("npm") is None:
        raise SystemExit("bench/lighthouse.py needs npm (Debian: apt-get install -y npm)")
    print("# installing Lighthouse (npm ci in bench/lighthouse-tools)", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLS, check=True
    )
    stamp.write_text(lock)


def _environment(port: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ["PRACTIKA_BASE_DOMAIN"] = "localhost"
    os.environ["PRACTIKA_PUBLIC_PORT"] = f":{port}"
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault(
        "PRACTIKA_EMBEDDED_PG_DIR", str(ROOT / ".data" / "postgres-bench-lighthouse")
    )


def _setup_django(port: int, data: Path) -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    _environment(port)
    os.environ["PRACTIKA_PRIVATE_MEDIA_ROOT"] = str(data / "private-media")
    os.environ["PRACTIKA_MEDIA_ROOT"] = str(data / "media")
    import django

    django.setup()
    from django.conf import settings

    # Production's static files: collected once, hashed and compressed names, no finders.
    settings.STATIC_ROOT = str(data / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"


# --- The server (a child process) -----------------------------------------------------------


def _serve(port: int, data: Path) -> None:
    _setup_django(port, data)
    import uvicorn

    from config.asgi import application

    uvicorn.run(
        application,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


# --- Seed -----------------------------------------------------------------------------------


def _prepare(data: Path) -> dict:
    """A school with a teacher (its owner) and a student, the page tour, session cookies."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from tenants import services
    from tenants.models import Membership, Role, Tenant, User
    from tests.support import page_tour

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        owner = User.objects.create_user(email="bench-lh-teacher@example.com", password=None)
        tenant = services.tenant_create(name="Bench Music", slug=SLUG, kind="school", owner=owner)
    teacher = Membership.objects.get(tenant=tenant, role=Role.OWNER).user
    student, _ = User.objects.get_or_create(email="bench-lh-student@example.com")
    Membership.objects.get_or_create(user=student, tenant=tenant, defaults={"role": Role.STUDENT})
    tour = page_tour.seed(
        tenant=tenant,
        teacher=teacher,
        student=student,
        private_media_root=Path(settings.PRIVATE_MEDIA_ROOT),
    )
    cookies = {}
    for name, user in (("teacher", teacher), ("student", student)):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies[name] = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
    return {"tour": tour, "cookies": cookies}


# --- Lighthouse -----------------------------------------------------------------------------


def _lighthouse(url: str, cookie: dict | None, out: Path) -> dict[str, float]:
    command = ["node", str(RUN), url, str(out)]
    if cookie is not None:
        command += [cookie["name"], cookie["value"]]
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    subprocess.run(command, check=True, env=env, timeout=300, cwd=TOOLS)
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {url}: {report['runtimeError']}")
    final = report.get("finalDisplayedUrl") or report.get("finalUrl")
    if final.rstrip("/") != url.rstrip("/"):
        raise RuntimeError(f"Lighthouse on {url} ended on {final} (not logged in?)")
    scores = {name: report["categories"][name]["score"] * 100 for name in CATEGORIES}
    audits = report["audits"]
    scores["tbt_ms"] = audits["total-blocking-time"]["numericValue"]
    scores["lcp_ms"] = audits["largest-contentful-paint"]["numericValue"]
    failing = [
        key
        for key, audit in audits.items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        and key in _category_audits(report, ("accessibility", "best-practices"))
    ]
    scores["failing"] = failing
    # What to look at when a score drops: console errors, and the scripts that took the time.
    scores["notes"] = [
        f"console: {item.get('description', '')[:160]}"
        for item in audits["errors-in-console"].get("details", {}).get("items", [])[:3]
    ] + [
        f"script {item['url'].rsplit('/', 1)[-1][:40]} {item.get('scripting', 0):.0f} ms"
        for item in audits["bootup-time"].get("details", {}).get("items", [])[:4]
    ]
    return scores


def _category_audits(report: dict, names: tuple[str, ...]) -> set[str]:
    return {
        ref["id"]
        for name in names
        for ref in report["categories"][name]["auditRefs"]
        if ref.get("weight", 0) > 0
    }


# --- axe-core -------------------------------------------------------------------------------


def _axe(origin: dict, setup: dict) -> int:
    """axe-core's failing rules, summed over the main pages at both sizes."""
    from playwright.sync_api import sync_playwright

    tour = setup["tour"]
    pages = [(None, origin["public"] + path) for path in ("/", "/accounts/login/", "/signup/")]
    pages += [("teacher", origin["tenant"] + p) for p in tour.pages("teacher")]
    pages += [("teacher", origin["tenant"] + p) for p in tour.pages("admin")]
    pages += [("student", origin["tenant"] + p) for p in tour.pages("student")]
    axe = AXE.read_text()
    total = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            for viewport in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
                for who, url in pages:
                    context = browser.new_context(viewport=viewport)
                    if who is not None:
                        cookie = setup["cookies"][who]
                        context.add_cookies([{**cookie, "url": origin["tenant"]}])
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(300)
                    page.add_script_tag(content=axe)
                    rules = page.evaluate(
                        "async () => (await axe.run(document)).violations.map(v => v.id)"
                    )
                    if rules:
                        print(f"# axe {viewport['width']} px {url}: {', '.join(rules)}")
                    total += len(rules)
                    context.close()
        finally:
            browser.close()
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    _tools()
    REPORTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="practika-bench-lighthouse-"))
    _setup_django(port, data)
    setup = _prepare(data)
    from django.db import connections

    connections.close_all()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]))
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    origin = {"public": f"http://localhost:{port}", "tenant": f"http://{SLUG}.localhost:{port}"}
    results: dict[str, list[dict]] = {}
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
        tour = setup["tour"]
        targets = [
            ("home", origin["public"] + "/", None),
            ("teacher_dashboard", origin["tenant"] + "/dashboard/", "teacher"),
            ("student_dashboard", origin["tenant"] + "/dashboard/", "student"),
            ("compare", origin["tenant"] + f"/replies/{tour.reply}/", "teacher"),
        ]
        only = os.environ.get("LIGHTHOUSE_PAGES", "").split(",")
        targets = [t for t in targets if t[0] in only] if only != [""] else targets
        # A server in production is warm: its first requests (imports, compiled templates,
        # connections) are not what a visitor meets, so they are made before measuring.
        for _, url, who in targets * 3:
            # Python does not resolve *.localhost as browsers do: loopback, with the Host.
            parts = urllib.parse.urlsplit(url)
            request = urllib.request.Request(f"http://127.0.0.1:{port}{parts.path}")
            request.add_header("Host", parts.netloc)
            if who:
                cookie = setup["cookies"][who]
                request.add_header("Cookie", f"{cookie['name']}={cookie['value']}")
            urllib.request.urlopen(request, timeout=60).read()  # noqa: S310 - our http URL
        for run in range(RUNS):
            for name, url, who in targets:
                cookie = setup["cookies"][who] if who else None
                scores = _lighthouse(url, cookie, REPORTS / f"lighthouse-{name}-{run + 1}.json")
                results.setdefault(name, []).append(scores)
                print(
                    f"# run {run + 1} {name:18s} "
                    + " ".join(f"{c} {scores[c]:.0f}" for c in CATEGORIES)
                    + f"  TBT {scores['tbt_ms']:.0f} ms  LCP {scores['lcp_ms']:.0f} ms"
                    + (f"  failing: {', '.join(scores['failing'])}" if scores["failing"] else ""),
                    flush=True,
                )
                for note in scores["notes"]:
                    print(f"#     {note}", flush=True)
        violations = _axe(origin, setup)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        from config import embedded_db

        connections.close_all()
        embedded_db.stop()
        shutil.rmtree(data, ignore_errors=True)
    for name, runs in results.items():
        for category in CATEGORIES:
            median = statistics.median(run[category] for run in runs)
            print(f"BENCH lighthouse_{name}_{category.replace('-', '_')} {median:.0f}")
        tbt = statistics.median(run["tbt_ms"] for run in runs)
        print(f"BENCH lighthouse_{name}_tbt_ms {tbt:.0f} ms")
    print(f"BENCH a11y_violations {violations}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        parser = argparse.ArgumentParser()
        parser.add_argument("role")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--data", type=Path, required=True)
        args = parser.parse_args()
        _serve(args.port, args.data)
    else:
        sys.exit(main())
