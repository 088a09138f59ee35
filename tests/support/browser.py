"""Fixtures shared by the browser tests: Debian's chromium through Playwright, and a live
Practika (tests.support.e2e_server: uvicorn + a Celery worker on the test database).

Registered for every test module by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, connections
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


@pytest.fixture(scope="module")
def stack(schools, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    with e2e_server.live_stack(database=database, data=tmp_path_factory.mktemp("live")) as live:
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
