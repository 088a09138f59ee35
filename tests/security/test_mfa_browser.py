"""Two-factor authentication in a real browser (Debian's chromium through Playwright) on the live
stack (tests/support/e2e_server.py): a staff member sets up an authenticator app, logs out,
logs in with a code through the tenant picker and the login handover, and logs in with a
recovery code; a school that requires it sends a teacher without it to enrolment first.

The codes are computed here from the secret the enrolment page shows, as a phone would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from tenants.models import Membership, Role, Tenant, User
from tests.conftest import PASSWORD, totp_code
from tests.support import e2e_server
from tests.support.browser import committed

# django_db makes pytest-django set up the test database even when this module runs alone;
# what the browser does is committed by the live server, outside this test's transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ENROL = "/accounts/2fa/totp/activate/"
# Where the enrolment page sends a login that has not confirmed its password in a while.
REAUTH_FOR_ENROL = "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
CODE_STEP = "/accounts/2fa/authenticate/"


def _public(stack, path: str) -> str:
    return f"http://{e2e_server.BASE_DOMAIN}:{stack.port}{path}"


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def _host(page: Page) -> str:
    return urlsplit(page.url).hostname or ""


def _sent_to_enrolment(page: Page) -> bool:
    parts = urlsplit(page.url)
    return f"{parts.path}?{parts.query}" == REAUTH_FOR_ENROL


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def _enrol(page: Page) -> tuple[str, list[str]]:
    """Confirm the password (allauth asks before any change to two-factor settings), type the
    app's code, read the recovery codes, go on."""
    assert _path(page) == "/accounts/reauthenticate/", page.url
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert _path(page) == ENROL, page.url
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state()
    assert _path(page) == "/accounts/2fa/recovery-codes/", page.url
    codes = page.input_value("#recovery_codes").split()
    assert len(codes) == 10
    page.click("#mfa-continue")
    page.wait_for_load_state()
    return secret, codes


def _pick_school_a(page: Page, stack) -> None:
    """The picker on the public site, then the handover to School A's host."""
    assert _host(page) == e2e_server.BASE_DOMAIN and _path(page) == "/after-login/", page.url
    expect(page.get_by_role("heading", name="Where to?")).to_be_visible()
    page.get_by_role("link", name="School A").click()
    page.wait_for_load_state()
    assert _host(page) == f"school-a.{e2e_server.BASE_DOMAIN}", page.url
    assert _path(page) == "/", page.url  # in, with no enrolment or code page on the way


@pytest.fixture
def staff_member(schools):
    """Platform staff who also teach at School A and learn at School B (so: a picker)."""
    email = "mfa-staff@practika.test"

    def delete() -> None:
        # Tenant tables point at users: collect them where they exist (School A's schema).
        with tenant_context(schools.a.tenant):
            User.objects.filter(email=email).delete()

    def create() -> User:
        delete()  # left behind by an interrupted run, with its memberships
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        Membership.objects.create(user=user, tenant=schools.a.tenant, role=Role.TEACHER)
        Membership.objects.create(user=user, tenant=schools.b.tenant, role=Role.STUDENT)
        return user

    yield committed(create)
    committed(delete)


def test_staff_enrol_then_log_in_with_a_code_and_with_a_recovery_code(
    browser, stack, staff_member
):
    context = browser.new_context()
    page = context.new_page()
    try:
        # First staff login: straight to enrolment, whatever page comes next.
        _log_in(page, _public(stack, "/accounts/login/"), staff_member.email)
        assert _sent_to_enrolment(page), page.url
        expect(page.locator(".messages")).to_contain_text("Practika staff accounts need")
        page.goto(_public(stack, "/staff/"))
        assert _sent_to_enrolment(page), page.url
        secret, codes = _enrol(page)
        _pick_school_a(page, stack)

        # Log out of both hosts (each keeps its own session cookie).
        _log_out(page)
        page.goto(_public(stack, "/staff/"))
        _log_out(page)
        page.goto(_public(stack, "/staff/"))
        assert "/accounts/login/" in page.url

        # Log in again: the password, then a code from the app, then the picker and handover.
        _log_in(page, _public(stack, "/accounts/login/"), staff_member.email)
        assert _path(page) == CODE_STEP, page.url
        page.fill("input[name=code]", "000000")
        page.get_by_role("button", name="Sign In").click()
        expect(page.locator("main")).to_contain_text("Incorrect code")
        page.fill("input[name=code]", totp_code(secret, steps_ahead=1))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
        page.goto(_public(stack, "/staff/"))
        assert _path(page) == "/staff/", page.url  # the staff area opens
        page.goto(_public(stack, "/after-login/"))
        _pick_school_a(page, stack)

        # And once more with a recovery code instead of the app.
        _log_out(page)
        page.goto(_public(stack, "/staff/"))
        _log_out(page)
        _log_in(page, _public(stack, "/accounts/login/"), staff_member.email)
        assert _path(page) == CODE_STEP, page.url
        page.fill("input[name=code]", codes[0])
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
        _pick_school_a(page, stack)
    finally:
        context.close()
    recovery = Authenticator.objects.get(
        user=staff_member, type=Authenticator.Type.RECOVERY_CODES
    )
    assert codes[0] not in recovery.wrap().get_unused_codes()


def _set_mfa_required(tenant, required):
    tenant = Tenant.objects.get(pk=tenant.pk)
    tenant.mfa_required = required
    tenant.save(update_fields=["mfa_required"])


@pytest.fixture
def school_a_requires_mfa(schools, stack):
    tenant, teacher = schools.a.tenant, schools.a.teacher
    committed(lambda: _set_mfa_required(tenant, True))
    stack.forget_cached()  # the live server's cached copy of the tenant
    yield schools.a
    committed(lambda: _set_mfa_required(tenant, False))
    stack.forget_cached()
    committed(lambda: Authenticator.objects.filter(user=teacher).delete())


def test_a_school_that_requires_mfa_sends_a_teacher_to_enrolment_first(
    browser, stack, school_a_requires_mfa
):
    school = school_a_requires_mfa
    context = browser.new_context()
    page = context.new_page()
    try:
        _log_in(page, stack.url("school-a", "/accounts/login/"), school.teacher.email)
        assert _sent_to_enrolment(page), page.url
        expect(page.locator(".messages")).to_contain_text("School A asks its owners")
        for path in ["/", "/teach/exercises/new/", "/manage/settings/"]:
            page.goto(stack.url("school-a", path))
            assert _sent_to_enrolment(page), (path, page.url)
        _enrol(page)
        assert _host(page) == f"school-a.{e2e_server.BASE_DOMAIN}" and _path(page) == "/"
        page.goto(stack.url("school-a", "/teach/exercises/new/"))
        assert _path(page) == "/teach/exercises/new/", page.url
    finally:
        context.close()
