"""Staff impersonation in a real browser (Debian's chromium through Playwright) on the live stack
(tests/support/e2e_server.py): a staff member is refused without a reason; with one, lands on
the school's host as the member with the banner on every page, and the school's owner reads
it in the audit log; once the owner switches support access off, staff are refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from tenants.models import AuditEvent, Impersonation, Tenant, User
from tests.conftest import PASSWORD, enrol_totp, totp_code
from tests.support import e2e_server
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

STAFF_EMAIL = "browser-support@practika.test"
REASON = "Ticket 5150: the student says the exercise page is empty."


def _public(stack, path: str) -> str:
    return f"http://{e2e_server.BASE_DOMAIN}:{stack.port}{path}"


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _support_access(tenant: Tenant, allowed: bool) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(support_access=allowed)


@pytest.fixture
def support_staff(schools, stack):
    tenant = schools.a.tenant

    def delete() -> None:
        user = User.objects.filter(email=STAFF_EMAIL).first()
        if user is None:
            return
        AuditEvent.objects.filter(actor=user).delete()
        AuditEvent.objects.filter(impersonator=user).delete()
        with tenant_context(tenant):  # tenant tables may point at users
            User.objects.filter(pk=user.pk).delete()

    def create() -> tuple[User, str]:
        delete()  # left behind by an interrupted run
        user = User.objects.create_user(email=STAFF_EMAIL, password=PASSWORD, is_staff=True)
        return user, enrol_totp(user)

    yield committed(create)
    committed(delete)
    committed(
        lambda: AuditEvent.objects.filter(
            tenant=tenant, action="tenant.support_access_changed"
        ).delete()
    )
    committed(lambda: _support_access(tenant, True))
    stack.forget_cached()


def _staff_logs_in(page: Page, stack, secret: str) -> None:
    _log_in(page, _public(stack, "/accounts/login/"), STAFF_EMAIL)
    assert urlsplit(page.url).path == "/accounts/2fa/authenticate/", page.url
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def _act_as_form(page: Page, email: str):
    return page.locator(f"form[data-impersonate='{email}']")


def test_staff_impersonation_needs_a_reason_is_bannered_logged_and_honours_support_access(
    browser, stack, schools, support_staff
):
    staff, secret = support_staff
    school = schools.a
    detail = _public(stack, f"/staff/tenants/{school.tenant.public_id}/")
    staff_context = browser.new_context()
    owner_context = browser.new_context()
    try:
        page = staff_context.new_page()
        _staff_logs_in(page, stack, secret)
        page.goto(detail)

        # Without a reason: refused, back on the staff page, nothing started.
        _act_as_form(page, school.student.email).get_by_role("button").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path == urlsplit(detail).path, page.url
        expect(page.locator(".messages")).to_contain_text("Write why")
        assert not committed(lambda: Impersonation.objects.filter(staff=staff).exists())

        # With one: a link on, the handover to the school's host, then the start button.
        form = _act_as_form(page, school.student.email)
        form.locator("textarea").fill(REASON)
        form.get_by_role("button").click()
        page.wait_for_load_state()
        page.get_by_role("link", name=f"Continue to {school.tenant.name}").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).hostname == school.host, page.url
        assert urlsplit(page.url).path.startswith("/support/"), page.url
        expect(page.locator("main")).to_contain_text(REASON)
        page.get_by_role("button", name=f"Start acting as {school.student.email}").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).hostname == school.host and urlsplit(page.url).path == "/"

        banner = page.locator("[data-support-banner]")
        for path in ["/", "/my/replies/", "/dashboard/"]:
            page.goto(stack.url("school-a", path))
            expect(banner).to_be_visible()
            expect(banner).to_contain_text(school.student.email)
            expect(banner).to_contain_text(REASON)
        expect(page.locator(".who")).to_have_text(school.student.email)

        # The school's owner reads it in the audit log.
        owner_page = owner_context.new_page()
        _log_in(owner_page, stack.url("school-a", "/accounts/login/"), school.owner.email)
        owner_page.goto(stack.url("school-a", "/manage/audit/?action=staff.impersonation_started"))
        row = owner_page.locator("tr[data-action='staff.impersonation_started']").first
        expect(row).to_contain_text("Practika staff started acting as a member")
        expect(row).to_contain_text(STAFF_EMAIL)
        expect(row).to_contain_text(REASON)

        # The banner's button ends the session; the end is logged too.
        banner.get_by_role("button", name=f"Stop acting as {school.student.email}").click()
        page.wait_for_load_state()
        expect(page.locator("main")).to_contain_text("Support session ended")
        expect(page.locator("[data-support-banner]")).to_have_count(0)
        owner_page.goto(stack.url("school-a", "/manage/audit/?action=staff.impersonation_ended"))
        expect(
            owner_page.locator("tr[data-action='staff.impersonation_ended']").first
        ).to_contain_text("released")

        # Support access off: the staff page already open is refused when it asks.
        page.goto(detail)
        owner_page.goto(stack.url("school-a", "/manage/settings/"))
        owner_page.uncheck("#id_support_access")
        owner_page.locator("form[action='/manage/settings/support-access/'] button").click()
        owner_page.wait_for_load_state()
        expect(owner_page.locator(".messages")).to_contain_text("can no longer act as a member")
        form = _act_as_form(page, school.student.email)
        form.locator("textarea").fill(REASON)
        form.get_by_role("button").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).hostname == e2e_server.BASE_DOMAIN, page.url
        expect(page.locator(".messages")).to_contain_text("switched support access off")
        expect(_act_as_form(page, school.student.email)).to_have_count(0)
        started = committed(
            lambda: Impersonation.objects.filter(staff=staff, started_at__isnull=False).count()
        )
        assert started == 1
    finally:
        staff_context.close()
        owner_context.close()
