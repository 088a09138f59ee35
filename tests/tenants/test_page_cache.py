"""tenants.page_cache: a member's page is kept and served again without its view, for that
member only, with a fresh CSRF token, and never once anything it shows has changed. (The
"very next request" tests of tests/tenants/test_page_caches.py and
tests/learning/test_page_parts.py run through kept pages too.)"""

from __future__ import annotations

import re
from unittest import mock

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django_tenants.utils import tenant_context

from learning import page_parts
from tenants import page_cache
from tenants.models import User
from tests.conftest import client_for

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _renders(path_module: str):
    """Counts the view's own renders (a kept page is answered without them)."""
    import django.shortcuts

    return mock.patch(f"{path_module}.render", wraps=django.shortcuts.render)


def test_a_second_visit_is_answered_from_the_kept_page(school_a):
    client = client_for(school_a.student, school_a.host)
    with _renders("analytics.views") as render:
        first = client.get("/dashboard/")
        second = client.get("/dashboard/")
    assert first.status_code == second.status_code == 200
    assert render.call_count == 1
    assert TOKEN.sub("", first.content.decode()) == TOKEN.sub("", second.content.decode())


def test_a_kept_page_carries_a_fresh_token_that_the_server_accepts(school_a):
    client = client_for(school_a.student, school_a.host)
    client.handler.enforce_csrf_checks = True
    first = TOKEN.search(client.get("/dashboard/").content.decode()).group(1)
    second = TOKEN.search(client.get("/dashboard/").content.decode()).group(1)
    assert first != second  # masked anew for each answer, never the stored one
    assert page_cache._csrf_placeholder() not in client.get("/dashboard/").content.decode()

    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": second})
    assert response.status_code == 302  # accepted: a refused token answers 403


def test_members_never_share_a_kept_page(school_a):
    mine = client_for(school_a.student, school_a.host).get("/dashboard/").content.decode()
    theirs = client_for(school_a.other_student, school_a.host).get("/dashboard/").content.decode()
    assert school_a.student.email in mine and school_a.student.email not in theirs
    assert school_a.other_student.email in theirs


def test_a_kept_page_is_not_shown_over_a_message_waiting_for_the_member(school_a):
    client = client_for(school_a.student, school_a.host)
    client.get("/dashboard/")
    request = HttpRequest()
    client.cookies["messages"] = CookieStorage(request)._encode(
        [Message(constants.SUCCESS, "Your reply is with your teacher.")]
    )
    assert "Your reply is with your teacher." in client.get("/dashboard/").content.decode()
    assert "Your reply is with your teacher." not in client.get("/dashboard/").content.decode()


def test_a_renamed_school_shows_on_the_very_next_request(school_a):
    client = client_for(school_a.student, school_a.host)
    assert school_a.tenant.name in client.get("/dashboard/").content.decode()
    school_a.tenant.name = "Renamed Music School"
    school_a.tenant.save()
    assert "Renamed Music School" in client.get("/dashboard/").content.decode()


def test_a_renamed_user_shows_on_the_very_next_request_of_a_kept_page(school_a):
    client = client_for(school_a.student, school_a.host)
    client.get("/dashboard/")
    user = User.objects.get(pk=school_a.student.pk)
    user.email = "kept-page-renamed@example.com"
    user.save()
    assert "kept-page-renamed@example.com" in client.get("/dashboard/").content.decode()


def test_any_model_of_learning_moves_the_version_on(school_a):
    """Followed without being named: a course (no page_parts line names it) changes it."""
    from learning.models import Course

    with tenant_context(school_a.tenant):
        before = page_parts.version()
        course = Course.objects.create(title="Scales", created_by=school_a.teacher)
        assert page_parts.version() != before
        before = page_parts.version()
        course.assigned_students.add(school_a.student)
        assert page_parts.version() != before


def test_a_visitor_without_a_membership_gets_no_kept_page(school_a, school_b):
    client_for(school_a.student, school_a.host).get("/dashboard/")
    outsider = client_for(school_b.student, school_a.host)
    assert outsider.get("/dashboard/").status_code == 403
    assert Client(HTTP_HOST=school_a.host).get("/dashboard/").status_code == 302


def test_the_public_home_is_kept_for_visitors_and_not_shared_with_the_signed_in(public_host):
    from tenants.views import signup

    visitor = Client(HTTP_HOST=public_host, enforce_csrf_checks=True)
    with _renders("tenants.views.signup") as render:
        first, second = visitor.get("/"), visitor.get("/")
    assert first.status_code == second.status_code == 200
    assert render.call_count == 1
    assert signup.public_home.__wrapped__  # the kept view is the one routed
    signed_in = client_for(User.objects.filter(is_staff=False).first(), public_host)
    assert signed_in.get("/").status_code == 200  # a signed-in visitor's page is not shared


# --- The login page, kept for visitors (tenants.views.login) ----------------------------------


def _login_renders():
    from allauth.account.views import LoginView

    return mock.patch.object(
        LoginView, "get_context_data", autospec=True, side_effect=LoginView.get_context_data
    )


def test_the_login_page_is_kept_for_visitors_with_its_headers_and_a_token_that_logs_in(
    school_a, public_host, fresh_rate_limits
):
    with _login_renders() as renders:
        first = Client(HTTP_HOST=public_host).get("/accounts/login/")
        visitor = Client(HTTP_HOST=public_host, enforce_csrf_checks=True)
        second = visitor.get("/accounts/login/")
    assert first.status_code == second.status_code == 200
    assert renders.call_count == 1
    assert TOKEN.sub("", first.content.decode()) == TOKEN.sub("", second.content.decode())
    # allauth's no-cache headers come with the kept copy too.
    assert "no-store" in second["Cache-Control"] and "no-store" in first["Cache-Control"]
    token = TOKEN.search(second.content.decode()).group(1)
    assert page_cache._csrf_placeholder() not in second.content.decode()

    school_a.student.set_password("a-long-test-password")
    school_a.student.save()
    response = visitor.post(
        "/accounts/login/",
        {"login": school_a.student.email, "password": "a-long-test-password",
         "csrfmiddlewaretoken": token},
    )  # fmt: skip
    assert response.status_code == 302  # signed in: a refused token answers 403


def test_each_next_address_and_each_school_has_a_login_page_of_its_own(school_a, public_host):
    public = Client(HTTP_HOST=public_host)
    plain = public.get("/accounts/login/").content.decode()
    onward = public.get("/accounts/login/?next=/billing/").content.decode()
    assert 'value="/billing/"' in onward and 'value="/billing/"' not in plain
    school = Client(HTTP_HOST=school_a.host).get("/accounts/login/").content.decode()
    assert f"Log in to {school_a.tenant.name}" in school
    again = public.get("/accounts/login/").content.decode()
    assert f"Log in to {school_a.tenant.name}" not in again


def test_a_schools_login_page_shows_a_new_sign_on_server_and_its_removal_at_once(school_a):
    from tenants.sso import services as sso_services

    button = f"Continue with {school_a.tenant.name} sign-in"
    visitor = Client(HTTP_HOST=school_a.host)
    assert button not in visitor.get("/accounts/login/").content.decode()
    sso_services.school_server_set(
        tenant=school_a.tenant, actor=school_a.owner, issuer="https://sso.example.com/o",
        client_id="client", secret="secret",
    )  # fmt: skip
    assert button in visitor.get("/accounts/login/").content.decode()
    sso_services.school_server_remove(tenant=school_a.tenant, actor=school_a.owner)
    assert button not in visitor.get("/accounts/login/").content.decode()


def test_a_renamed_school_shows_its_new_name_on_its_login_page_at_once(school_a):
    visitor = Client(HTTP_HOST=school_a.host)
    visitor.get("/accounts/login/")
    school_a.tenant.name = "Renamed Academy"
    school_a.tenant.save()
    assert "Log in to Renamed Academy" in visitor.get("/accounts/login/").content.decode()


def test_a_signed_in_member_opening_the_login_page_is_still_sent_on(school_a):
    Client(HTTP_HOST=school_a.host).get("/accounts/login/")  # kept for visitors
    response = client_for(school_a.student, school_a.host).get("/accounts/login/")
    assert response.status_code == 302


def test_the_token_of_a_kept_page_is_the_secret_under_a_uniform_random_mask():
    from django.middleware.csrf import (
        CSRF_ALLOWED_CHARS,
        _get_new_csrf_string,
        _unmask_cipher_token,
    )

    request = HttpRequest()
    request.META["CSRF_COOKIE"] = secret = _get_new_csrf_string()
    tokens = [page_cache.csrf_token(request) for _ in range(2000)]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True  # the cookie is renewed
    assert all(_unmask_cipher_token(token) == secret for token in tokens)
    assert len(set(tokens)) == len(tokens)
    masks = "".join(token[:32] for token in tokens)
    counts = [masks.count(char) for char in CSRF_ALLOWED_CHARS]
    expected = len(masks) / len(CSRF_ALLOWED_CHARS)  # 1,032 of each
    assert min(counts) > 0.8 * expected and max(counts) < 1.2 * expected

    without = HttpRequest()  # no secret yet: Django's get_token makes one
    assert _unmask_cipher_token(page_cache.csrf_token(without)) == without.META["CSRF_COOKIE"]
