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
