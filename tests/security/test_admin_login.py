"""Finding 4: the Django admin's login (`/django-admin/login/`) had no failed-login limit, so the
passwords of the most powerful accounts could be guessed there without end. Now the admin
logs in through our login (allauth, with its limits) and stays staff-only.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tenants.models import User
from tests.conftest import PASSWORD, enrol_totp, totp_code

FAILED_LOGINS = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split("/")[0])


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="root-admin@practika.example", password=PASSWORD, is_staff=True,
        is_superuser=True,
    )


def test_guessing_a_staff_password_through_the_admin_login_gets_nowhere(staff, public_host):
    attacker = Client(HTTP_HOST=public_host)
    admin_login = "/django-admin/login/?next=/django-admin/"

    guesses = [
        attacker.post(admin_login, {"username": staff.email, "password": f"guess-{n}"})
        for n in range(FAILED_LOGINS + 1)
    ]
    # Even the right password, posted to the admin's own form, logs nobody in.
    right = attacker.post(admin_login, {"username": staff.email, "password": PASSWORD})

    assert "_auth_user_id" not in attacker.session
    for response in [*guesses, right]:
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/django-admin/"
    assert attacker.get("/django-admin/").status_code == 302


def test_the_admin_login_is_behind_our_login_limits(staff, public_host):
    attacker = Client(HTTP_HOST=public_host)
    login = "/accounts/login/?next=/django-admin/"
    for n in range(FAILED_LOGINS):
        attacker.post(login, {"login": staff.email, "password": f"guess-{n}"})

    blocked = attacker.post(login, {"login": staff.email, "password": PASSWORD})

    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_staff_reach_the_admin_through_our_login_and_others_get_a_403(
    staff, schools, public_host
):
    secret = enrol_totp(staff)  # platform staff must use two factors (tenants.mfa)
    client = Client(HTTP_HOST=public_host)
    redirect = client.get("/django-admin/", follow=True)
    assert redirect.redirect_chain[-1][0] == "/accounts/login/?next=/django-admin/"

    logged_in = client.post(
        "/accounts/login/?next=/django-admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert logged_in.status_code == 302
    assert logged_in["Location"] == "/accounts/2fa/authenticate/"
    confirmed = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/django-admin/"
    assert client.get("/django-admin/").status_code == 200

    teacher = Client(HTTP_HOST=public_host)
    teacher.post("/accounts/login/", {"login": schools.a.teacher.email, "password": PASSWORD})
    assert "_auth_user_id" in teacher.session
    refused = teacher.get("/django-admin/", follow=True)
    assert refused.status_code == 403
    assert "staff only" in refused.content.decode()
