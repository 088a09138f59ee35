"""A studio's student under 13 in real browsers against the live stack (uvicorn, with its mail
written to files): the studio's owner invites them with the "under 13" box, the student's
exercise page refuses uploads, the guardian opens the emailed link on a phone (390x844) and
consents, and the page then offers the uploader.
"""

from __future__ import annotations

import re
import time

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tenants import services
from tenants.models import GuardianConsent, Invitation, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, _user
from tests.support.browser import committed
from tests.support.factories import ExerciseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "young-studio-live"
KID = "live-kid@example.com"
GUARDIAN = "live-guardian@example.com"
LINK = re.compile(r"http://\S+/guardian/\S+/")


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def studio(schools):
    # A studio of its own for this test (the live stack needs it committed), dropped after.
    def remove():
        tenant = Tenant.objects.filter(slug=SLUG).first()
        if tenant is None:
            return
        GuardianConsent.objects.filter(tenant=tenant).delete()
        Invitation.objects.filter(tenant=tenant).delete()
        with tenant_context(tenant):
            User.objects.filter(email=KID).delete()

    def create():
        owner = _user(f"owner@{SLUG}.example.com")
        tenant = Tenant.objects.filter(slug=SLUG).first() or services.tenant_create(
            name="Young Studio Live", slug=SLUG, kind="studio", owner=owner
        )
        remove()
        return tenant, owner

    def drop():
        remove()
        tenant = Tenant.objects.filter(slug=SLUG).first()
        if tenant is not None:
            tenant.delete(force_drop=True)

    yield committed(create)
    # Dropped, so that no test counting the session's tenants meets it.
    committed(drop)


def _guardian_link(stack, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in stack.emails():
            if f"To: {GUARDIAN}" in message and (match := LINK.search(message)):
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"No consent email for {GUARDIAN}.\n{stack.logs()}")


def _log_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_the_guardian_consents_through_the_emailed_link_and_then_the_student_can_upload(
    browser, stack, studio
):
    tenant, owner = studio
    teacher = browser.new_context().new_page()
    _log_in(teacher, stack.url(SLUG, "/accounts/login/"), owner.email)
    teacher.goto(stack.url(SLUG, "/manage/members/"))
    teacher.fill("input[name=email]", KID)
    teacher.select_option("select[name=role]", "student")
    teacher.check("input[name=under_13]")
    teacher.fill("input[name=guardian_email]", GUARDIAN)
    teacher.click("text=Send invitation")
    expect(teacher.locator("body")).to_contain_text(f"Invitation sent to {KID}")

    def enrol():
        kid = User.objects.create_user(email=KID, password=PASSWORD)
        Membership.objects.create(user=kid, tenant=tenant, role=Role.STUDENT)
        with tenant_context(tenant):
            return str(ExerciseFactory(created_by=owner, assign_to_all=True).public_id)

    exercise = committed(enrol)
    student = browser.new_context().new_page()
    _log_in(student, stack.url(SLUG, "/accounts/login/"), KID)
    student.goto(stack.url(SLUG, f"/exercises/{exercise}/"))
    refused = student.locator("[data-upload-refused=guardian_consent_required]")
    expect(refused).to_contain_text("parent or guardian has agreed")
    expect(student.locator("[data-uploader]")).to_have_count(0)

    guardian = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = guardian.new_page()
    page.goto(_guardian_link(stack))
    expect(page.locator("h2", has_text="What we collect")).to_be_visible()
    page.fill("input[name=guardian_name]", "Pat Guardian")
    page.check("input[name=confirm]")
    page.click("text=I give consent")
    expect(page.locator("[role=status]")).to_contain_text("Consent given by Pat Guardian")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    student.reload()
    expect(student.locator("[data-uploader]")).to_have_count(1)
    expect(student.locator("[data-upload-refused]")).to_have_count(0)
    consent = committed(lambda: GuardianConsent.objects.get(tenant=tenant, student_email=KID))
    assert consent.given_by_name == "Pat Guardian" and consent.given_from_ip == "127.0.0.1"
