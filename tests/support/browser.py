"""Fixtures shared by the browser tests: Debian's chromium through Playwright, and a live
Practika (tests.support.e2e_server: uvicorn + a Celery worker on the test database).

Registered for every test module by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.db.models import Max
from django_tenants.utils import tenant_context
from playwright.sync_api import sync_playwright

from tests.support import e2e_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The public site is the test base domain and tenants live on its subdomains; send them
    # all to the live server.
    f"--host-resolver-rules=MAP *.{e2e_server.BASE_DOMAIN} 127.0.0.1,"
    f"MAP {e2e_server.BASE_DOMAIN} 127.0.0.1",
    "--autoplay-policy=no-user-gesture-required",
]


def committed(function, *args, timeout: float = 120):
    """Run ORM work on a connection of its own (a new thread), committed outside the test's
    transaction so that the live server sees it; return its value, or raise its error here."""
    result = {}

    def work():
        try:
            result["value"] = function(*args)
        except Exception as error:
            result["error"] = error
        finally:
            connections.close_all()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=timeout)
    if worker.is_alive():
        raise TimeoutError(f"{function!r} did not finish within {timeout} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


@contextmanager
def activity_restored(schools, django_db_blocker):
    """Remove, afterwards, the activity a live stack recorded in the session-wide schools
    (events, notifications, milestones) and rebuild their rollups and progress from the
    events that remain: it is committed, and later tests on the same database count it."""
    from analytics import rollups
    from analytics.models import Milestone, Notification
    from learning.models import ActivityEvent

    models = (ActivityEvent, Notification, Milestone)
    tenants = (schools.a.tenant, schools.b.tenant)
    with django_db_blocker.unblock():
        marks = {}
        for tenant in tenants:
            with tenant_context(tenant):
                marks[tenant.pk] = [m.objects.aggregate(n=Max("pk"))["n"] or 0 for m in models]
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            for tenant in tenants:
                with tenant_context(tenant):
                    for model, last in zip(models, marks[tenant.pk], strict=True):
                        model.objects.filter(pk__gt=last).delete()
                    rollups.rebuild()


@contextmanager
def live_stack(schools, django_db_blocker, data, extra_env=None):
    """e2e_server.live_stack on the test database, the schools' activity restored after."""
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    with (
        activity_restored(schools, django_db_blocker),
        e2e_server.live_stack(database=database, data=data, extra_env=extra_env) as live,
    ):
        yield live


@pytest.fixture(scope="module")
def stack(schools, django_db_blocker, tmp_path_factory):
    with live_stack(schools, django_db_blocker, tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread, and Django refuses ORM calls
    # next to a running loop. Nothing async touches the ORM here, so allow it (Playwright's
    # documented workaround for Django), for the module using this fixture only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
