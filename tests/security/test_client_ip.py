"""Finding 3: every per-address limit could be bypassed.

The web command trusted X-Forwarded-For from anyone, and the client writes its leftmost
entries, so allauth's login limits and DRF's throttles keyed on an address the attacker
picked; DRF even keyed on the whole header. And the counters restarted on every tenant host
(cache keys carry the schema). Now uvicorn believes only PRACTIKA_TRUSTED_PROXIES, Django
reads REMOTE_ADDR alone, and rate-limit counters are kept once for all hosts.

Through the real uvicorn (tests.support.edge_server): a direct client that is no trusted
proxy, and the load balancer (the test itself, as a trusted proxy) appending the real address.
"""

from __future__ import annotations

import itertools
import json
import shutil
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.settings import api_settings

from tests.support import e2e_server
from tests.support.edge_server import Browser, web_server

pytestmark = pytest.mark.django_db

TOO_MANY_FAILED = "Too many failed login attempts"
WRONG_PASSWORD = "The email address and/or password you specified are not correct"
# allauth's ACCOUNT_RATE_LIMITS["login_failed"] per address, and DRF's rate for dj-rest-auth.
FAILED_LOGINS_PER_ADDRESS = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split("/")[0])
API_AUTH_PER_ADDRESS = int(
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dj_rest_auth"].split("/")[0]
)
spoofed = (f"203.0.113.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def database(schools, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return e2e_server.database_url(connection.settings_dict)


# Both servers: uvicorn (the websockets' process, --proxy-headers) and gunicorn with
# config.proxy_headers (the pages' process).
@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def kind(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def direct(database, kind, tmp_path_factory):
    """Clients connect straight to the server; the one trusted proxy is somewhere else."""
    data = tmp_path_factory.mktemp("direct")
    with web_server(database=database, data=data, trusted_proxies="192.0.2.10",
                    kind=kind) as live:
        yield live


@pytest.fixture(scope="module")
def behind_proxy(database, kind, tmp_path_factory):
    """The test connects from loopback, the trusted proxy (as the load balancer would)."""
    data = tmp_path_factory.mktemp("proxied")
    with web_server(database=database, data=data, trusted_proxies="127.0.0.1/32,::1",
                    kind=kind) as live:
        yield live


def fresh_counters(server) -> None:
    shutil.rmtree(server.data / "cache", ignore_errors=True)


def failed_web_login(server, *, forwarded_for: str) -> str:
    """A wrong password for a new address each time (so only the per-address limit counts)."""
    browser = Browser(server, server.host())
    response = browser.post_form(
        "/accounts/login/",
        {"login": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "guess"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    assert response.status in {200, 429}, response.text[:500]
    # The login form again, with one of its two refusals (an error page would let the
    # absence checks below pass).
    assert WRONG_PASSWORD in response.text or TOO_MANY_FAILED in response.text, (
        response.text[:500]
    )
    return response.text


def test_a_spoofed_x_forwarded_for_does_not_reset_the_failed_login_limit(direct):
    fresh_counters(direct)
    pages = [
        failed_web_login(direct, forwarded_for=next(spoofed))
        for _ in range(FAILED_LOGINS_PER_ADDRESS + 1)
    ]

    assert not any(TOO_MANY_FAILED in page for page in pages[:-1])
    assert TOO_MANY_FAILED in pages[-1], "the attacker picked a new address for each guess"


def test_api_throttles_ignore_x_forwarded_for(direct):
    fresh_counters(direct)
    browser = Browser(direct, direct.host())

    def api_login() -> int:
        return browser.request(
            "POST", "/api/v1/auth/login/",
            body=json.dumps({"email": "nobody@example.com", "password": "guess"}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": next(spoofed)},
        ).status

    statuses = [api_login() for _ in range(API_AUTH_PER_ADDRESS + 1)]

    assert 429 not in statuses[:-1]
    assert statuses[-1] == 429, "DRF keyed its throttle on the client's X-Forwarded-For"


def test_behind_the_load_balancer_the_address_it_appended_counts(behind_proxy):
    fresh_counters(behind_proxy)
    attacker, neighbour = "198.51.100.7", "198.51.100.8"
    pages = [
        # The client wrote the first entry; the load balancer appended what it saw.
        failed_web_login(behind_proxy, forwarded_for=f"{next(spoofed)}, {attacker}")
        for _ in range(FAILED_LOGINS_PER_ADDRESS + 1)
    ]

    assert TOO_MANY_FAILED in pages[-1]
    # Someone else behind the same load balancer is not locked out with the attacker.
    assert TOO_MANY_FAILED not in failed_web_login(
        behind_proxy, forwarded_for=f"{attacker}, {neighbour}"
    )


def test_rate_limits_count_once_across_tenant_hosts(schools, public_host):
    cache.clear()
    hosts = itertools.cycle([schools.a.host, schools.b.host, public_host])
    clients = {host: Client(HTTP_HOST=host) for host in (schools.a.host, schools.b.host,
                                                         public_host)}

    statuses = [
        clients[next(hosts)].post(
            "/api/v1/auth/login/", {"email": "nobody@example.com", "password": "guess"},
            content_type="application/json",
        ).status_code
        for _ in range(API_AUTH_PER_ADDRESS + 1)
    ]

    assert 429 not in statuses[:-1]
    assert statuses[-1] == 429, "each tenant host gave the attacker a fresh allowance"
    assert api_settings.NUM_PROXIES == 0
    cache.clear()
