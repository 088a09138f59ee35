"""How closely the compare page keeps the reply with the demonstration while it plays.

    make bench                                   (or: PYTHONPATH=platform:. python bench/sync.py)
    BENCH sync_manual_p95_ms <value> ms
    BENCH sync_auto_p95_ms <value> ms
    BENCH sync_manual_seeks_after_1s <count>

A demonstration (24 s) and a reply (26 s) are made with the bundled ffmpeg, processed by the real
pipeline and played by the real web server (tests/support/e2e_server.py) in Debian's chromium
(headless, --autoplay-policy=no-user-gesture-required) for 20 s at 1x: once by the manual offset
(400 ms) and once along auto-sync's time map (a late start, then 5 % fast and 5 % slow in turn).
Every animation frame after the first second, the reply's position is compared with where it
should be (the demonstration's position minus the offset, or the map's replyAt of it); the
figures are the 95th percentile of that distance, and the number of times the transport moved
the reply (a seek, which a musician hears) after the first second in manual mode.
Targets (issue 13): p95 <= 30 ms in each mode, no seek after the first second in manual mode.

The embedded PostgreSQL lives in its own data folder (.data/postgres-bench-sync, kept between
runs so that it is migrated once); the exercise and its media are deleted afterwards. On a
loaded machine (the load average is printed) media decoders stall and the figures grow: compare
runs on a quiet machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench-sync"
PLAY_S = 20.0
OFFSET_MS = 400
TIME_MAP = {
    "demo_ms": [0, 4000, 8000, 12000, 16000, 20000, 24000],
    "reply_ms": [700, 4900, 8700, 12900, 16700, 20900, 24900],
}


def _setup_django() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ["PRACTIKA_EMBEDDED_PG_DIR"] = str(ROOT / ".data" / "postgres-bench-sync")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # Playwright's sync API keeps an event loop in this thread; no ORM call is async here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()


def _school() -> SimpleNamespace:
    from django.core.management import call_command

    from tenants import services
    from tenants.models import Membership, Role, Tenant, User
    from tests.conftest import PASSWORD

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    users = {}
    for name in ("teacher", "student"):
        email = f"bench-sync-{name}@example.com"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        users[name] = user
    tenant = Tenant.objects.filter(slug=SLUG).first() or services.tenant_create(
        name="Bench Sync", slug=SLUG, kind="school", owner=users["teacher"]
    )
    Membership.objects.get_or_create(
        user=users["student"], tenant=tenant, defaults={"role": Role.STUDENT}
    )
    return SimpleNamespace(tenant=tenant, teacher=users["teacher"], student=users["student"])


def _log_in(page, stack, user) -> None:
    from tests.conftest import PASSWORD

    page.goto(stack.url(SLUG, "/accounts/login/"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise RuntimeError("the bench's teacher could not log in")


def main() -> int:
    _setup_django()
    from django.db import connection, connections
    from playwright.sync_api import sync_playwright

    from config import embedded_db
    from learning.models import MediaFile
    from tests.support import e2e_server
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.support.compare_pages import CompareSet, measure_sync, recording

    results = {}
    try:
        school = _school()
        data = Path(tempfile.mkdtemp(prefix="practika-bench-sync-"))
        database = e2e_server.database_url(connection.settings_dict)
        with e2e_server.live_stack(database=database, data=data) as stack:
            compare = CompareSet(school=school)
            try:
                private = data / "private-media"
                demo = compare.media_file(
                    recording("landscape", 24, data / "in", tone_hz=440),
                    purpose=MediaFile.Purpose.DEMONSTRATION,
                    private_root=private,
                )
                take = compare.media_file(
                    recording("landscape", 26, data / "in", tone_hz=660),
                    purpose=MediaFile.Purpose.REPLY,
                    private_root=private,
                )
                compare.add("manual", demo=demo, take=take, offset_ms=OFFSET_MS)
                compare.add("auto", demo=demo, take=take, time_map=TIME_MAP)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, args=CHROMIUM_ARGS
                    )
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = context.new_page()
                    _log_in(page, stack, school.teacher)
                    for mode in ("manual", "auto"):
                        page.goto(compare.url(stack, mode))
                        page.wait_for_selector("[data-compare][data-ready][data-comments=ready]")
                        results[mode] = measure_sync(page, mode=mode, seconds=PLAY_S)
                        figures = results[mode]
                        print(
                            f"# {mode:6s} p50 {figures['p50_ms']:.1f} ms  p95 "
                            f"{figures['p95_ms']:.1f} ms  max {figures['max_ms']:.1f} ms  "
                            f"first second max {figures['first_second_max_ms']:.1f} ms  "
                            f"seeks after 1 s {figures['seeks_after_warmup']}  "
                            f"({figures['samples']} samples, {figures['played_s']:.1f} s played)",
                            flush=True,
                        )
                    browser.close()
            finally:
                compare.delete()
    finally:
        connections.close_all()
        embedded_db.stop()  # this script's own server (.data/postgres-bench-sync)
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"BENCH sync_manual_p95_ms {results['manual']['p95_ms']:.1f} ms")
    print(f"BENCH sync_auto_p95_ms {results['auto']['p95_ms']:.1f} ms")
    print(f"BENCH sync_manual_seeks_after_1s {results['manual']['seeks_after_warmup']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
