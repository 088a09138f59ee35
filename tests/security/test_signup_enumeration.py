"""Finding 6 of issue 10: sign-up must not tell whether an address has an account.

The attacker signs up with an address that has an account and with one that has not, on the
public site's form, through the API, and with a school's join code, and compares the answers.
They must be the same (status, page or JSON, cookies); the existing account gets a notice by
email instead, no tenant is made for it, and its account does not change.
"""

from __future__ import annotations

import re
import uuid

from django.core import mail
from django.core.cache import cache
from django.test import Client

from tenants.models import Membership, Tenant, User
from tests.conftest import PASSWORD

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _comparable(response, *secrets: str) -> tuple:
    body = CSRF_TOKEN.sub("", response.content.decode())
    for secret in secrets:
        body = body.replace(secret, "<>")
    return (
        response.status_code, response.get("Location"), body,
        sorted(k for k in response.cookies if k != "csrftoken"),
    )


def test_signup_answers_the_same_for_a_taken_and_a_free_address(
    schools, public_host, django_capture_on_commit_callbacks
):
    cache.clear()  # allauth's sign-up rate limit
    victim = User.objects.get(pk=schools.a.owner.pk)
    fresh = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    slugs = {email: f"enum-{uuid.uuid4().hex[:8]}" for email in (victim.email, fresh)}
    answers = {}
    with django_capture_on_commit_callbacks(execute=True):
        for email, slug in slugs.items():
            # Web sign-up (a studio) on the public site.
            web = Client(HTTP_HOST=public_host).post("/signup/teacher/", {
                "full_name": "Eve", "email": email, "password": "a-long-enough-passphrase",
                "tenant_name": "Probe", "slug": slug,
            })
            # The API sign-up (a school).
            api = Client(HTTP_HOST=public_host).post("/api/v1/signup/", {
                "full_name": "Eve", "email": email, "password": "a-long-enough-passphrase",
                "tenant_name": "Probe", "slug": f"{slug}-api", "kind": "school",
            }, content_type="application/json")
            # Sign-up with school B's join code, on its host.
            code = schools.b.tenant.join_code
            join = Client(HTTP_HOST=schools.b.host).post(f"/join/{code}/", {
                "code": code, "full_name": "Eve", "email": email,
                "password": "a-long-enough-passphrase",
            })
            answers[email] = [
                _comparable(response, email, slug) for response in (web, api, join)
            ]

    # Then: the same answers, whichever the address.
    assert answers[victim.email] == answers[fresh]
    # No tenant and no membership for either, yet; the existing account is unchanged.
    assert not Tenant.objects.filter(slug__in=[*slugs.values()]).exists()
    assert not Tenant.objects.filter(slug__in=[f"{s}-api" for s in slugs.values()]).exists()
    assert not Membership.objects.filter(user=victim, tenant=schools.b.tenant).exists()
    assert User.objects.get(pk=victim.pk).password == victim.password
    assert User.objects.get(pk=victim.pk).check_password(PASSWORD)
    assert not User.objects.filter(email=fresh).exists()
    # Instead, the existing address is told someone tried, with a way in that it controls.
    notices = [m for m in mail.outbox if m.to == [victim.email]]
    assert len(notices) == 3
    for notice in notices:
        assert "already exists" in notice.body
        assert "/accounts/password/reset/" in notice.body
        assert "/signup/finish/" not in notice.body
    # And the free address gets the link that finishes its sign-up.
    links = [m for m in mail.outbox if m.to == [fresh]]
    assert len(links) == 3
    assert all("/signup/finish/" in m.body for m in links)


def test_an_address_gets_at_most_three_signup_emails_in_a_quarter_hour(
    schools, public_host, django_capture_on_commit_callbacks
):
    # Typing someone's address into the sign-up forms sends them mail: the address gets at
    # most 3 in 15 minutes, by page, API or join code alike, whoever asks and from where.
    cache.clear()
    taken = User.objects.get(pk=schools.a.owner.pk).email
    fresh = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    for email in (taken, fresh):
        mail.outbox.clear()
        statuses = []
        with django_capture_on_commit_callbacks(execute=True):
            for attempt in range(3):
                page = Client(HTTP_HOST=public_host).post("/signup/teacher/", {
                    "full_name": "Eve", "email": email.upper() if attempt else email,
                    "tenant_name": "Probe", "slug": f"rl-{uuid.uuid4().hex[:8]}",
                })
                statuses.append(page.status_code)
            api = Client(HTTP_HOST=public_host).post("/api/v1/signup/", {
                "email": email, "tenant_name": "Probe", "slug": f"rl-{uuid.uuid4().hex[:8]}",
                "kind": "school",
            }, content_type="application/json")
            join = Client(HTTP_HOST=schools.b.host).post(
                f"/join/{schools.b.tenant.join_code}/",
                {"code": schools.b.tenant.join_code, "full_name": "Eve", "email": email},
            )
        assert statuses == [200, 200, 200]
        assert api.status_code == 429 and api.json()["code"]
        assert join.status_code == 429
        assert [message.to for message in mail.outbox] == [[email]] * 3
    # Another address is not held back by them.
    with django_capture_on_commit_callbacks(execute=True):
        other = Client(HTTP_HOST=public_host).post("/signup/teacher/", {
            "full_name": "Ann", "email": f"ann-{uuid.uuid4().hex[:8]}@example.com",
            "tenant_name": "Probe", "slug": f"rl-{uuid.uuid4().hex[:8]}",
        })
    assert other.status_code == 200 and "Check your email" in other.content.decode()
