"""A tenant's deletion in a real browser against the live stack (uvicorn, tests.support.e2e_server):
the owner types the school's name to confirm, a student then meets the closing notice, and the
owner cancels from it and the school opens again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tenants import services
from tenants.models import Membership, Role, Tenant, User
from tenants.services.deletion import account_delete_if_unused
from tests.conftest import PASSWORD
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "closing-school"
OWNER = "owner@closing-school.example.com"
STUDENT = "student@closing-school.example.com"


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


def _remove() -> None:
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None:
        tenant.delete(force_drop=True)
    for user in User.objects.filter(email__in=[OWNER, STUDENT]):
        account_delete_if_unused(user=user)


def _create() -> None:
    _remove()
    owner = User.objects.create_user(email=OWNER, password=PASSWORD)
    tenant = services.tenant_create(name="Closing School", slug=SLUG, kind="school", owner=owner)
    student = User.objects.create_user(email=STUDENT, password=PASSWORD)
    Membership.objects.create(user=student, tenant=tenant, role=Role.STUDENT)


@pytest.fixture
def closing_school(schools):
    committed(_create)
    yield
    committed(_remove)


def _log_in(browser, stack, email: str):
    page = browser.new_context().new_page()
    page.goto(stack.url(SLUG, "/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def test_the_owner_deletes_a_student_meets_the_notice_and_the_owner_cancels(
    browser, stack, closing_school
):
    owner = _log_in(browser, stack, OWNER)
    owner.goto(stack.url(SLUG, "/manage/settings/"))
    owner.click("text=Delete Closing School…")
    expect(owner.locator("h1")).to_have_text("Delete Closing School")
    owner.fill("#id_confirmation", "closing")  # not the name: refused, nothing happens
    owner.click("button.danger")
    expect(owner.locator(".alert.error")).to_contain_text("closing-school")
    owner.fill("#id_confirmation", SLUG)
    owner.click("button.danger")
    expect(owner.locator("h1")).to_have_text("Closing School will be deleted")

    student = _log_in(browser, stack, STUDENT)
    student.goto(stack.url(SLUG, "/"))
    expect(student.locator("h1")).to_have_text("Closing School is being deleted")
    expect(student.locator("text=Cancel the deletion")).to_have_count(0)

    owner.goto(stack.url(SLUG, "/"))
    owner.click("a.button:has-text('Cancel the deletion')")
    owner.click("button:has-text('Cancel the deletion')")
    expect(owner.locator("h1")).to_have_text("Delete Closing School")
    student.goto(stack.url(SLUG, "/"))
    expect(student.locator("h1")).not_to_have_text("Closing School is being deleted")
    assert not committed(lambda: Tenant.objects.get(slug=SLUG).is_closing)
