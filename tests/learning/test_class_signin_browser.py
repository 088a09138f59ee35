"""A student without email signs in with a class code in a real browser at phone size
(390x844), against the live stack (uvicorn, tests.support.e2e_server): the school's login page,
"Sign in with a class code", the code, their name from the class list, a wrong personal code
and then the right one.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.class_signin import services as class_services
from learning.models import Classroom
from tenants.models import User
from tests.conftest import member
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
CLASS_NAME = "Browser recorder group"


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def young_class(schools):
    tenant = schools.a.tenant

    def remove():
        with tenant_context(tenant):
            User.objects.filter(email__startswith="school-a.mia.").delete()
            User.objects.filter(email__startswith="school-a.noah.").delete()
            Classroom.objects.filter(name=CLASS_NAME).delete()

    def create():
        remove()
        with tenant_context(tenant):
            teacher = member(schools.a.teacher, tenant)
            classroom = Classroom.objects.create(name=CLASS_NAME, created_by=schools.a.teacher)
            code = class_services.classroom_code_rotate(member=teacher, classroom=classroom)
            mia = class_services.classroom_student_create(
                member=teacher, classroom=classroom, full_name="Mia Young"
            )
            class_services.classroom_student_create(
                member=teacher, classroom=classroom, full_name="Noah Small"
            )
        return code, mia.pin

    yield committed(create)
    committed(remove)


def test_a_student_without_email_signs_in_with_a_class_code_on_a_phone(browser, stack, young_class):
    code, pin = young_class
    wrong = "000000" if pin != "000000" else "111111"
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()

    page.goto(stack.url("school-a", "/accounts/login/"))
    page.click("text=Sign in with a class code")
    expect(page.locator("h1")).to_have_text("Sign in with a class code")
    page.fill("input[name=code]", code.lower())
    page.click("form button[type=submit]")

    expect(page.locator("h1")).to_contain_text(CLASS_NAME)
    expect(page.locator("label.pick-name")).to_have_count(2)
    page.click("label.pick-name:has-text('Mia Young')")
    page.fill("input[name=pin]", wrong)
    page.click("form button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("That code is not right")

    page.click("label.pick-name:has-text('Mia Young')")
    page.fill("input[name=pin]", pin)
    page.click("form button[type=submit]")
    page.wait_for_url(stack.url("school-a", "/**"))
    assert "/sign-in/" not in page.url and "/accounts/login/" not in page.url
    expect(page.locator("body")).to_contain_text("Mia")
    # Signed in as a student: the student's pages open, the teachers' do not.
    response = page.goto(stack.url("school-a", "/exercises/"))
    assert response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.goto(stack.url("school-a", "/teach/classes/")).status == 403
    context.close()
