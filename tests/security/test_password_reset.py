"""Finding 1: password reset took over any account on a DEBUG host and never worked otherwise.

The attack: `POST /api/v1/auth/password/reset/ {"email": <staff>}` answered 500
(NoReverseMatch), the DEBUG error page listed the live reset key among the view's locals, and
`POST /api/v1/auth/password/reset/confirm/` with that key set the staff account's password.
Without DEBUG a known address answered 500 and an unknown one 200.

Each test sends the attacker's (or the owner's) requests through the whole stack, on the
public site and on a tenant's host.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tenants.models import User
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-fresh-long-passphrase-42"
RESET_LINK = re.compile(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+")


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="staff@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )


def host_of(on: str, schools, public_host: str) -> str:
    return public_host if on == "public" else schools.a.host


def post_json(client: Client, path: str, data) -> object:
    return client.post(path, json.dumps(data), content_type="application/json")


def reset_link(message) -> tuple[str, str, str]:
    """(link, uid, key) from a reset email: the link is `…/key/<uid>-<key>/`."""
    link = RESET_LINK.search(message.body).group(0)
    uid, key = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1].split("-", 1)
    return link, uid, key


def api_login(host: str, email: str, password: str):
    return post_json(Client(HTTP_HOST=host), "/api/v1/auth/login/",
                     {"email": email, "password": password})


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_a_reset_request_answers_the_same_for_any_address_and_leaks_no_key(
    on, schools, public_host, staff, settings
):
    # Given the DEBUG error pages that listed the view's locals (the reset key among them)
    settings.DEBUG = True
    host = host_of(on, schools, public_host)
    attacker = Client(HTTP_HOST=host, raise_request_exception=False)

    # When the attacker asks for resets of a known and of an unknown address
    known = post_json(attacker, "/api/v1/auth/password/reset/", {"email": staff.email})
    unknown = post_json(attacker, "/api/v1/auth/password/reset/", {"email": "nobody@example.com"})

    # Then both get the same plain answer, and no answer carries the key that was emailed
    assert known.status_code == unknown.status_code == 200, known.content[:300]
    assert known.content == unknown.content
    to_staff = [m for m in mail.outbox if m.to == [staff.email]]
    assert len(to_staff) == 1
    _, _, key = reset_link(to_staff[0])
    assert key.encode() not in known.content
    # The unknown address hears that someone asked, rather than nothing (nobody learns more).
    assert [m.to for m in mail.outbox if m.to != [staff.email]] == [["nobody@example.com"]]


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_the_reset_confirm_takes_only_the_key_emailed_for_that_account(
    on, schools, public_host, staff
):
    host = host_of(on, schools, public_host)
    attacker = Client(HTTP_HOST=host)
    # The attacker owns an account too and gets a genuine key for it.
    post_json(attacker, "/api/v1/auth/password/reset/", {"email": schools.a.student.email})
    _, attacker_uid, attacker_key = reset_link(mail.outbox[-1])
    post_json(attacker, "/api/v1/auth/password/reset/", {"email": staff.email})
    _, staff_uid, staff_key = reset_link(mail.outbox[-1])
    assert staff_uid != attacker_uid

    for uid, token in [
        (staff_uid, attacker_key),  # someone else's key
        (staff_uid, ""),
        (staff_uid, "1-" + "0" * 32),
        (staff_uid, staff_key[:-1] + ("0" if staff_key[-1] != "0" else "1")),
        ("1", staff_key),  # the key with another account's id
    ]:
        response = post_json(attacker, "/api/v1/auth/password/reset/confirm/", {
            "uid": uid, "token": token,
            "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
        })
        assert response.status_code == 400, (uid, token, response.content)
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    assert api_login(host, staff.email, NEW_PASSWORD).status_code == 400


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_password_reset_through_the_api_works_end_to_end(on, schools, public_host):
    host = host_of(on, schools, public_host)
    owner = Client(HTTP_HOST=host)
    teacher = schools.a.teacher

    asked = post_json(owner, "/api/v1/auth/password/reset/", {"email": teacher.email})
    assert asked.status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [teacher.email]
    link, uid, key = reset_link(mail.outbox[0])
    # The link lands on our page on the host that was asked.
    assert urlsplit(link).hostname == host

    confirmed = post_json(owner, "/api/v1/auth/password/reset/confirm/", {
        "uid": uid, "token": key, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert confirmed.status_code == 200, confirmed.content

    assert api_login(host, teacher.email, PASSWORD).status_code == 400
    logged_in = api_login(host, teacher.email, NEW_PASSWORD)
    assert logged_in.status_code == 200 and logged_in.json()["key"]
    # The key worked once.
    again = post_json(owner, "/api/v1/auth/password/reset/confirm/", {
        "uid": uid, "token": key, "new_password1": "x" + NEW_PASSWORD,
        "new_password2": "x" + NEW_PASSWORD,
    })
    assert again.status_code == 400


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_the_emailed_link_opens_our_page_and_sets_the_password(on, schools, public_host):
    host = host_of(on, schools, public_host)
    client = Client(HTTP_HOST=host)
    student = schools.a.student

    assert client.post("/accounts/password/reset/", {"email": student.email}).status_code == 302
    link, _, _ = reset_link(mail.outbox[0])
    assert urlsplit(link).hostname == host

    form = client.get(urlsplit(link).path, follow=True)
    assert form.status_code == 200
    page = form.content.decode()
    assert 'class="topbar"' in page and 'name="password1"' in page
    done = client.post(
        form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    assert done.status_code == 200
    assert "password is now changed" in done.content.decode()

    fresh = Client(HTTP_HOST=host)
    fresh.post("/accounts/login/", {"login": student.email, "password": NEW_PASSWORD})
    assert fresh.session.get("_auth_user_id") == str(student.pk)


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_reset_requests_are_limited_per_address_and_per_client(on, schools, public_host):
    host = host_of(on, schools, public_host)

    # Per address: from ever-new clients, a fourth request within minutes is refused (and the
    # same for an address without an account, so the limit tells nothing either).
    for email in [schools.a.owner.email, "nobody@example.com"]:
        statuses = [
            post_json(Client(HTTP_HOST=host, REMOTE_ADDR=f"198.51.100.{n}"),
                      "/api/v1/auth/password/reset/", {"email": email}).status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429], (email, statuses)
    # The page has the same limit (on a tenant's host it counts in that host's cache space).
    cache.clear()
    statuses = [
        Client(HTTP_HOST=host, REMOTE_ADDR=f"198.51.100.{n}")
        .post("/accounts/password/reset/", {"email": schools.a.owner.email}).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]

    # Per client: one client cycling through addresses is stopped too.
    cache.clear()
    sent_before = len(mail.outbox)
    client = Client(HTTP_HOST=host, REMOTE_ADDR="203.0.113.9")
    statuses = [
        post_json(client, "/api/v1/auth/password/reset/", {"email": f"n{n}@example.com"})
        .status_code for n in range(25)
    ]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    assert len(mail.outbox) - sent_before == statuses.count(200) <= 20


# --- No 500 from any auth route ------------------------------------------------------------

AUTH_PATHS = [
    "/api/v1/auth/login/", "/api/v1/auth/logout/", "/api/v1/auth/user/",
    "/api/v1/auth/password/reset/", "/api/v1/auth/password/reset/confirm/",
    "/api/v1/auth/password/change/", "/api/v1/auth/tokens/",
    "/api/v1/auth/tokens/00000000-0000-4000-8000-000000000001/", "/api/v1/auth/login",
]
BODIES = [
    None,
    "{}",
    "[]",
    '"text"',
    "{not json",
    json.dumps({"email": "staff@example.com", "password": "x", "uid": "1", "token": "x",
                "old_password": "x", "new_password1": "x", "new_password2": "y"}),
    json.dumps({"email": ["staff@example.com"], "password": {"a": 1}, "uid": "z" * 40,
                "token": None, "old_password": 7, "new_password1": [], "new_password2": "\u0000",
                "full_name": "x" * 10_000}),
    json.dumps({"uid": "-1", "token": "\u0000", "new_password1": "p" * 200,
                "new_password2": "p" * 200, "email": "a@b"}),
]


@pytest.mark.parametrize("auth", ["anonymous", "token", "broken token"])
def test_no_auth_route_answers_500_to_any_body(auth, schools, public_host, staff):
    failures = []
    hosts = [public_host, schools.a.host] if auth == "anonymous" else [schools.a.host]
    for host in hosts:
        for path in AUTH_PATHS:
            for method in ("get", "post", "put", "patch", "delete"):
                for body in BODIES:
                    cache.clear()  # the limits would otherwise answer 429 before the view runs
                    headers = {}
                    if auth == "token":
                        # A fresh token each time: some of these requests log out.
                        key = api_login(host, schools.a.teacher.email, PASSWORD).json()["key"]
                        headers["HTTP_AUTHORIZATION"] = f"Token {key}"
                    elif auth == "broken token":
                        headers["HTTP_AUTHORIZATION"] = "Token \xe9\xff"
                    client = Client(HTTP_HOST=host, raise_request_exception=False, **headers)
                    response = client.generic(
                        method.upper(), path, data=body or "",
                        content_type="application/json" if body else "text/plain",
                    )
                    if response.status_code >= 500:
                        failures.append((host, method, path, body, response.status_code))
    assert not failures, failures[:5]
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
