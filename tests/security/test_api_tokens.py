"""Finding 5: API tokens never expired, survived a password reset, and a token alone could set
a new password (the password change did not ask for the old one).

Each test plays the attacker who holds someone's token (from a log, a shared machine, a
leaked script) or the owner cleaning up after them, through the whole stack.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

NEW_PASSWORD = "a-fresh-long-passphrase-42"
# Tokens live a week by default; whatever the setting, never more than a month.
LONGEST_LIFETIME = timedelta(days=30)


def post_json(client: Client, path: str, data=None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def log_in(host: str, email: str, password: str = PASSWORD) -> str:
    response = post_json(Client(HTTP_HOST=host), "/api/v1/auth/login/",
                         {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["key"]


def with_token(host: str, key: str) -> Client:
    return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {key}")


def authenticates(host: str, key: str) -> bool:
    status = with_token(host, key).get("/api/v1/auth/user/").status_code
    assert status in (200, 401), status
    return status == 200


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_a_token_alone_cannot_set_a_new_password(on, schools, public_host):
    host = public_host if on == "public" else schools.a.host
    stolen = with_token(host, log_in(host, schools.a.teacher.email))

    for body in [
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        {"old_password": "a-guess", "new_password1": NEW_PASSWORD,
         "new_password2": NEW_PASSWORD},
    ]:
        response = post_json(stolen, "/api/v1/auth/password/change/", body)
        assert response.status_code == 400, response.content
        assert "old_password" in response.json()["fields"]

    teacher = type(schools.a.teacher).objects.get(pk=schools.a.teacher.pk)
    assert teacher.check_password(PASSWORD)


def test_guessing_the_current_password_with_a_token_is_limited(schools):
    host = schools.a.host
    stolen = with_token(host, log_in(host, schools.a.teacher.email))
    statuses = [
        post_json(stolen, "/api/v1/auth/password/change/", {
            "old_password": f"guess-{n}", "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        }).status_code
        for n in range(8)
    ]
    assert statuses[0] == 400
    assert statuses[-1] == 429


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_changing_the_password_revokes_every_token_even_the_callers(on, schools, public_host):
    host = public_host if on == "public" else schools.a.host
    teacher = schools.a.teacher
    elsewhere = log_in(schools.a.host, teacher.email)  # e.g. the one an attacker copied
    caller = log_in(host, teacher.email)

    response = post_json(with_token(host, caller), "/api/v1/auth/password/change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })

    assert response.status_code == 200, response.content
    assert not authenticates(host, caller)
    assert not authenticates(schools.a.host, elsewhere)
    assert authenticates(host, log_in(host, teacher.email, NEW_PASSWORD))


def test_changing_the_password_on_the_web_page_needs_the_old_one_and_revokes_tokens(schools):
    host = schools.a.host
    teacher = schools.a.teacher
    key = log_in(host, teacher.email)
    page = client_for(teacher, host)

    refused = page.post("/accounts/password/change/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })
    assert refused.status_code == 200  # the form again, with an error
    assert authenticates(host, key)

    changed = page.post("/accounts/password/change/", {
        "oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })
    assert changed.status_code == 302
    assert not authenticates(host, key)


@pytest.mark.parametrize("through", ["api", "web"])
def test_a_password_reset_revokes_every_token(through, schools, public_host):
    student = schools.a.student
    stolen = log_in(schools.a.host, student.email)
    client = Client(HTTP_HOST=public_host)

    if through == "api":
        post_json(client, "/api/v1/auth/password/reset/", {"email": student.email})
    else:
        client.post("/accounts/password/reset/", {"email": student.email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body)[0]
    uid, key = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1].split("-", 1)
    if through == "api":
        done = post_json(client, "/api/v1/auth/password/reset/confirm/", {
            "uid": uid, "token": key, "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        })
        assert done.status_code == 200, done.content
    else:
        form = client.get(urlsplit(link).path, follow=True)
        done = client.post(form.redirect_chain[-1][0],
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert done.status_code == 302

    assert not authenticates(schools.a.host, stolen)


def test_a_token_older_than_its_lifetime_is_refused(schools, monkeypatch):
    host = schools.a.host
    key = log_in(host, schools.a.teacher.email)
    assert authenticates(host, key)
    issued = timezone.now()
    real_now = timezone.now

    # However long the configured lifetime, a month and a minute later the token is dead,
    # and the token list tells when each one dies.
    monkeypatch.setattr(timezone, "now", lambda: real_now() + LONGEST_LIFETIME + timedelta(
        minutes=1))
    assert not authenticates(host, key)
    monkeypatch.setattr(timezone, "now", real_now)

    listed = with_token(host, log_in(host, schools.a.teacher.email)).get("/api/v1/auth/tokens/")
    expiries = [timezone.datetime.fromisoformat(t["expiry"]) for t in listed.json()]
    assert expiries and all(issued < e <= issued + LONGEST_LIFETIME for e in expiries)


def test_logout_revokes_only_the_token_that_made_the_call(schools):
    host = schools.a.host
    laptop = log_in(host, schools.a.teacher.email)
    phone = log_in(host, schools.a.teacher.email)

    assert post_json(with_token(host, laptop), "/api/v1/auth/logout/").status_code == 200

    assert not authenticates(host, laptop)
    assert authenticates(host, phone)


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_owners_list_and_revoke_their_tokens_and_nobody_elses(on, schools, public_host):
    host = public_host if on == "public" else schools.a.host
    teacher, student = schools.a.teacher, schools.b.student
    laptop = log_in(host, teacher.email)
    phone = log_in(host, teacher.email)
    theirs = log_in(host, student.email)

    listed = with_token(host, laptop).get("/api/v1/auth/tokens/")
    assert listed.status_code == 200
    mine = listed.json()
    assert len(mine) == 2
    assert [t["current"] for t in mine].count(True) == 1
    body = listed.content.decode()
    assert laptop not in body and phone not in body and theirs not in body
    phone_id = next(t["public_id"] for t in mine if not t["current"])

    # Another account neither sees nor revokes the teacher's tokens.
    other = with_token(host, theirs)
    their_answer = other.get("/api/v1/auth/tokens/")
    assert their_answer.status_code == 200
    their_list = their_answer.json()
    assert [t["public_id"] for t in their_list] != [t["public_id"] for t in mine]
    assert phone_id not in json.dumps(their_list)
    assert other.delete(f"/api/v1/auth/tokens/{phone_id}/").status_code == 404
    assert authenticates(host, phone)
    # Nor does anyone without a token.
    assert Client(HTTP_HOST=host).get("/api/v1/auth/tokens/").status_code == 401
    assert Client(HTTP_HOST=host).delete(f"/api/v1/auth/tokens/{phone_id}/").status_code == 401

    # The owner revokes the phone's token from the laptop.
    assert with_token(host, laptop).delete(f"/api/v1/auth/tokens/{phone_id}/").status_code == 204
    assert not authenticates(host, phone)
    assert authenticates(host, laptop)
    assert authenticates(host, theirs)
    assert len(with_token(host, laptop).get("/api/v1/auth/tokens/").json()) == 1
