"""Courses in a real browser against the live stack (uvicorn, tests.support.e2e_server): a student
follows their course path at 390 x 844 and 1280 x 800 (done, open and locked steps with the
reason; a locked step's page says when it opens), and a teacher's course page fits a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Course, CourseItem, CourseUnit, Exercise, MediaFile, Reply
from tests.conftest import PASSWORD
from tests.support.browser import committed
from tests.support.factories import ExerciseFactory, ReplyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TITLE = "Browser course of études"



@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def course(schools):
    school = schools.a

    def remove():
        # Everything made below, its recordings too (other modules count a school's media).
        with tenant_context(school.tenant):
            exercises = Exercise.objects.filter(course_item__unit__course__title=TITLE)
            ids = list(exercises.values_list("pk", flat=True))
            media = list(exercises.values_list("demo_id", flat=True))
            media += list(
                Reply.objects.filter(exercise_id__in=ids).values_list("media_id", flat=True)
            )
            Course.objects.filter(title=TITLE).delete()
            Exercise.objects.filter(pk__in=ids).delete()
            MediaFile.objects.filter(pk__in=media).delete()

    def make():
        with tenant_context(school.tenant):
            course = Course.objects.create(
                title=TITLE, created_by=school.teacher, assign_to_all=True
            )
            unit = CourseUnit.objects.create(course=course, title="Unit one: open strings")
            steps = []
            for n, title in enumerate(["Long bows on D", "Crossing to A", "Shifting to third"]):
                exercise = ExerciseFactory(
                    created_by=school.teacher, assign_to_all=False, title=title
                )
                steps.append(CourseItem.objects.create(unit=unit, exercise=exercise, position=n))
            steps[1].prerequisite = steps[0]
            steps[1].save(update_fields=["prerequisite"])
            steps[2].prerequisite = steps[1]
            steps[2].release_at = timezone.now() + timedelta(days=30)
            steps[2].save(update_fields=["prerequisite", "release_at"])
            ReplyFactory(exercise=steps[0].exercise, student=school.student, attempt=1)
            return course.public_id, [s.exercise.public_id for s in steps]

    committed(remove)
    yield committed(make)
    committed(remove)


def _login(browser, stack, user, viewport):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(stack.url("school-a", "/accounts/login/"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    return page


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]
)
def test_a_student_follows_the_course_path(browser, stack, schools, course, viewport):
    _, (_, _, third) = course
    page = _login(browser, stack, schools.a.student, viewport)

    # The layout links to the courses (on a phone, behind the menu button)
    page.goto(stack.url("school-a", "/courses/"))
    expect(page.locator("[data-courses]")).to_contain_text(TITLE)
    expect(page.locator("[data-courses]")).to_contain_text("1 of 3 done")
    page.click(f"text={TITLE}")

    # The path: done, open, locked with the reason
    expect(page.locator("h1")).to_have_text(TITLE)
    rows = page.locator(".course-path .item")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-state", "done")
    expect(rows.nth(1)).to_have_attribute("data-state", "open")
    expect(rows.nth(2)).to_have_attribute("data-state", "locked")
    expect(rows.nth(2)).to_contain_text("Locked: opens on")
    _fits(page, viewport["width"])

    # The open step opens; the locked one says when it opens
    rows.nth(1).locator("a").click()
    expect(page.locator("h1")).to_have_text("Crossing to A")
    page.goto(stack.url("school-a", f"/exercises/{third}/"))
    expect(page.locator("[data-locked]")).to_contain_text("This exercise opens on")
    _fits(page, viewport["width"])
    page.context.close()


def test_the_teachers_course_page_fits_a_phone(browser, stack, schools, course):
    course_id, _ = course
    page = _login(browser, stack, schools.a.teacher, {"width": 390, "height": 844})
    page.goto(stack.url("school-a", f"/teach/courses/{course_id}/"))
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator(".course-item")).to_have_count(3)
    expect(page.locator(".course-item").nth(1)).to_contain_text("after “Long bows on D”")
    _fits(page, 390)
    page.goto(stack.url("school-a", "/teach/courses/"))
    expect(page.locator("[data-courses]")).to_contain_text(TITLE)
    _fits(page, 390)
    page.context.close()
