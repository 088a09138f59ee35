"""Password reset in a real browser against the live stack (uvicorn, tests.support.e2e_server):
"Forgot your password?" on a school's login page, the email (the live stack writes mail to
files), the link, a new password, and logging in with it.
"""

from __future__ import annotations

import re
import time

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tenants.models import Membership, Role, User
from tests.conftest import PASSWORD
from tests.support.browser import committed

# django_db: so that the test database is set up when this module runs alone (the data the
# live stack reads is committed on connections of their own, see tests.support.browser.committed).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

EMAIL = "forgetful-student@example.com"
NEW_PASSWORD = "a-fresh-long-passphrase-42"
RESET_LINK = re.compile(r"http://\S+/accounts/password/reset/key/\S+")


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    # The live server commits what the browser does; this test's own data is committed too,
    # on a connection of its own (see tests.support.browser.committed).
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def forgetful(schools):
    def remove():
        # In school A's schema: deleting a user also deletes their rows in its tables.
        with tenant_context(schools.a.tenant):
            User.objects.filter(email=EMAIL).delete()

    def create():
        remove()
        user = User.objects.create_user(email=EMAIL, password=PASSWORD)
        Membership.objects.create(user=user, tenant=schools.a.tenant, role=Role.STUDENT)
        return user

    yield committed(create)
    committed(remove)


def _reset_link(stack, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in stack.emails():
            if f"To: {EMAIL}" in message and (match := RESET_LINK.search(message)):
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"No reset email for {EMAIL}.\n{stack.logs()}")


def test_a_student_resets_a_forgotten_password_from_the_login_page(browser, stack, forgetful):
    page = browser.new_context().new_page()

    page.goto(stack.url("school-a", "/accounts/login/"))
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", EMAIL)
    page.click("form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your email")

    link = _reset_link(stack)
    assert link.startswith(stack.url("school-a", "/accounts/password/reset/key/"))
    page.goto(link)
    # The key leaves the address bar (and any Referer) before the form shows.
    key = link.rstrip("/").rsplit("/", 1)[-1].split("-", 1)[1]
    assert page.url.endswith("-set-password/") and key not in page.url
    expect(page.locator("h1")).to_have_text("Set a new password")
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Password changed")

    # The link worked once.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link no longer works")

    fresh = browser.new_context().new_page()
    fresh.goto(stack.url("school-a", "/accounts/login/"))
    fresh.fill("input[name=login]", EMAIL)
    fresh.fill("input[name=password]", PASSWORD)
    fresh.click("form button[type=submit]")
    expect(fresh.locator("form")).to_contain_text("not correct")
    fresh.fill("input[name=password]", NEW_PASSWORD)
    fresh.click("form button[type=submit]")
    fresh.wait_for_load_state()
    assert "/accounts/login/" not in fresh.url
    assert fresh.url.startswith(stack.url("school-a"))
