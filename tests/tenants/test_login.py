"""Logging in (allauth's pages in our layout) on the public site and on a tenant's host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from tenants.models import Membership, Role, User
from tests.conftest import PASSWORD, client_for
from tests.support.handover import follow_handover

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def log_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def test_login_on_the_public_site_with_one_membership_goes_straight_in(schools, public_host):
    client = Client(HTTP_HOST=public_host)
    response = log_in(client, schools.a.teacher.email)
    assert response.status_code == 302
    assert response["Location"] == "/after-login/"

    after = client.get("/after-login/")
    assert after.status_code == 302
    handover = urlsplit(after["Location"])
    assert handover.hostname == schools.a.host

    # The tenant's host checks with the public site that this browser asked for the ticket
    # (tenants.handover), then lands logged in, with no click.
    tenant_client, landed = follow_handover(after["Location"], public=client)
    assert landed.status_code == 302 and landed["Location"] == "/"
    home = tenant_client.get("/")
    assert home.status_code == 200
    assert home.context["membership"].user == schools.a.teacher


def test_several_memberships_get_a_picker(schools, public_host):
    Membership.objects.create(user=schools.a.teacher, tenant=schools.b.tenant, role=Role.STUDENT)
    client = client_for(schools.a.teacher, public_host)
    page = client.get("/after-login/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Where to?" in content
    assert "School A" in content and "School B" in content
    assert client.get("/go/school-b/").status_code == 302
    assert client.get("/go/not-mine/").status_code == 404


def test_no_membership_gets_the_signup_choices(public_host):
    user = User.objects.create_user(email="lonely@example.com", password=PASSWORD)
    page = client_for(user, public_host).get("/after-login/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "I'm a teacher" in content
    assert "/signup/school/" in content


def test_login_on_a_tenant_host_stays_there(schools, db):
    client = Client(HTTP_HOST=schools.a.host)
    # Anonymous visitors are sent to the login page of the same host.
    first = client.get("/")
    assert first.status_code == 302
    assert first["Location"].startswith("/accounts/login/?next=/")

    login_page = client.get("/accounts/login/?next=/")
    assert "Log in to School A" in login_page.content.decode()

    response = log_in(client, schools.a.student.email)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["membership"].user == schools.a.student


def test_the_sixth_failed_login_is_refused_even_with_the_right_password(schools, public_host):
    client = Client(HTTP_HOST=public_host)
    email = schools.b.student.email
    ip = {"REMOTE_ADDR": "192.0.2.10"}
    for _ in range(5):
        response = log_in(client, email, "wrong-password", **ip)
        assert response.status_code == 200
        assert "not correct" in response.content.decode()

    sixth = log_in(client, email, PASSWORD, **ip)

    assert sixth.status_code == 200
    assert "Too many failed login attempts" in sixth.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_limited_per_email_across_addresses(schools, public_host):
    email = schools.b.other_student.email
    for n in range(5):
        log_in(Client(HTTP_HOST=public_host), email, "wrong-password", REMOTE_ADDR=f"192.0.2.{n}")
    client = Client(HTTP_HOST=public_host)
    refused = log_in(client, email, PASSWORD, REMOTE_ADDR="192.0.2.99")
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_counted_together_on_every_host(schools, public_host):
    # Cache keys carry the schema; guesses spread over tenant hosts must not reset the count.
    email = schools.a.teacher.email
    hosts = [public_host, schools.a.host, schools.b.host]
    for n in range(5):
        log_in(Client(HTTP_HOST=hosts[n % 3]), email, "wrong", REMOTE_ADDR=f"198.51.100.{n}")
    client = Client(HTTP_HOST=schools.b.host)
    refused = log_in(client, email, PASSWORD, REMOTE_ADDR="198.51.100.99")
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_account_pages_use_our_layout(schools, public_host, on):
    host = public_host if on == "public" else schools.a.host
    anonymous = Client(HTTP_HOST=host)
    for path in [
        "/accounts/login/", "/accounts/password/reset/", "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
    ]:
        page = anonymous.get(path)
        assert page.status_code == 200, path
        assert 'class="topbar"' in page.content.decode(), path
        assert "practika.css" in page.content.decode(), path
    logout = client_for(schools.a.owner, host).get("/accounts/logout/")
    assert logout.status_code == 200
    assert 'class="topbar"' in logout.content.decode()


def test_password_reset_sends_a_link_that_opens_in_our_layout(schools, public_host):
    client = Client(HTTP_HOST=public_host)
    response = client.post("/accounts/password/reset/", {"email": schools.a.owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(
        word for word in mail.outbox[0].body.split() if "/accounts/password/reset/key/" in word
    )
    page = client.get(urlsplit(link).path, follow=True)
    assert page.status_code == 200
    assert 'class="topbar"' in page.content.decode()
    assert "password1" in page.content.decode()


def test_logout_ends_the_session(schools, db):
    client = client_for(schools.a.owner, schools.a.host)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
