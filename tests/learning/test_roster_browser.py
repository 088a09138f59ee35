"""Roster import in a real browser against the live stack (uvicorn, tests.support.e2e_server),
at 1280 x 800: a school's owner uploads a CSV with a bad row, sees the preview with the row's
error, confirms importing the other rows, and the people and the class are there."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Classroom, RosterImport
from tenants.models import AuditEvent, Membership, User
from tests.conftest import PASSWORD
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CSV = (
    "email,first_name,last_name,role,class\r\n"
    "browser.student@roster-e2e.example.org,Bea,Student,student,Browser Band\r\n"
    "browser.teacher@roster-e2e.example.org,Tom,Teacher,teacher,\r\n"
    "browser.odd@roster-e2e.example.org,Odd,Row,conductor,\r\n"
)


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def clean_school_a(schools):
    def remove():
        with tenant_context(schools.a.tenant):
            User.objects.filter(email__endswith="@roster-e2e.example.org").delete()
            Classroom.objects.filter(name="Browser Band").delete()
            RosterImport.objects.filter(file_names="roster.csv").delete()
        AuditEvent.objects.filter(tenant=schools.a.tenant, action="roster.imported").delete()

    committed(remove)
    yield schools.a
    committed(remove)


def test_an_owner_uploads_previews_an_error_row_and_imports_the_rest(
    browser, stack, clean_school_a
):
    school = clean_school_a
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(stack.url("school-a", "/accounts/login/"))
    page.fill("input[name=login]", school.owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()

    page.goto(stack.url("school-a", "/manage/members/"))
    page.click("text=Import a roster")
    expect(page.locator("h1")).to_have_text("Import a roster")
    page.set_input_files(
        "#roster-files", {"name": "roster.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.check("input[name=sign_in][value=sso]")
    page.click("button:has-text('Preview')")

    expect(page.locator("h1")).to_have_text("Roster preview")
    errors = page.get_by_test_id("roster-errors")
    expect(errors).to_contain_text("The role “conductor” is unknown: write teacher or student.")
    expect(errors.locator("tbody tr")).to_have_count(1)
    counts = page.get_by_test_id("roster-counts")
    expect(counts.locator("tr", has_text="People")).to_contain_text("2")
    # Nothing is written before the admin confirms.
    assert not committed(
        lambda: User.objects.filter(email__endswith="@roster-e2e.example.org").exists()
    )
    import_button = page.locator("button:has-text('Import')")
    box = import_button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280

    page.check("input[name=include_good_rows]")
    import_button.click()
    expect(page.locator("h1")).to_have_text("Roster imported")
    expect(page.get_by_role("status")).to_contain_text("2 people added")

    def imported():
        roles = dict(
            Membership.objects.filter(
                tenant=school.tenant, user__email__endswith="@roster-e2e.example.org"
            ).values_list("user__email", "role")
        )
        with tenant_context(school.tenant):
            band = list(
                Classroom.objects.get(name="Browser Band").students.values_list("email", flat=True)
            )
        return roles, band

    roles, band = committed(imported)
    assert roles == {
        "browser.student@roster-e2e.example.org": "student",
        "browser.teacher@roster-e2e.example.org": "teacher",
    }
    assert band == ["browser.student@roster-e2e.example.org"]
