"""Rubrics in Debian's chromium on the live stack (issue 18, done-when 1): a teacher builds a
rubric for an exercise in the editor, scores the reply on the compare page next to the
comments, and the student sees the rubric on the exercise page and the scores on the compare
page, at 1280x800 and 390x844, with no page scrolling sideways."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import MediaFile, Reply, RubricScore
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.fixture(scope="module")
def page_set(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("rubrics")
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"

    def build():
        demo = compare.media_file(
            recording("landscape", 4, folder, tone_hz=440),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        take = compare.media_file(
            recording("landscape", 4, folder, tone_hz=660),
            purpose=MediaFile.Purpose.REPLY,
            private_root=private,
        )
        for viewport in VIEWPORTS:
            compare.add(str(viewport["width"]), demo=demo, take=take)

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare
    with django_db_blocker.unblock():
        committed(compare.delete)


def _no_sideways_scroll(page, viewport, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], (where, width)


def _fill_level(row, title: str, points: str) -> None:
    row.locator("[data-level-title]").fill(title)
    row.locator("[data-level-points]").fill(points)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_a_teacher_builds_a_rubric_scores_a_reply_and_the_student_sees_it(
    browser, stack, schools, page_set, viewport, django_db_blocker
):
    school = schools.a
    reply = page_set.replies[str(viewport["width"])]
    exercise_id = reply.exercise.public_id
    teacher_context = browser.new_context(viewport=viewport)
    student_context = browser.new_context(viewport=viewport)
    teacher, student = teacher_context.new_page(), student_context.new_page()
    try:
        _log_in(teacher, stack, school.teacher)
        # The exercise's page offers a new rubric; the editor builds it.
        teacher.goto(stack.url(school.tenant.slug, f"/teach/exercises/{exercise_id}/"))
        teacher.click("[data-exercise-rubric] [data-rubric-new]")
        expect(teacher.locator("[data-rubric-editor][data-ready=true]")).to_be_attached()
        teacher.fill("[data-rubric-title]", "Bowing")
        first = teacher.locator("[data-criterion-row]").nth(0)
        first.locator("[data-criterion-title]").fill("Tone")
        _fill_level(first.locator("[data-level-row]").nth(0), "Scratchy", "0")
        _fill_level(first.locator("[data-level-row]").nth(1), "Clear", "3")
        first.locator("[data-add-level]").click()
        _fill_level(first.locator("[data-level-row]").nth(2), "Singing", "5")
        teacher.click("[data-add-criterion]")
        second = teacher.locator("[data-criterion-row]").nth(1)
        second.locator("[data-criterion-title]").fill("Bow distribution")
        _fill_level(second.locator("[data-level-row]").nth(0), "Runs out", "1")
        _fill_level(second.locator("[data-level-row]").nth(1), "Even", "2.5")
        expect(teacher.locator("[data-rubric-editor-total]")).to_have_text("Out of 7.5")
        _no_sideways_scroll(teacher, viewport, "editor")
        teacher.click("[data-rubric-save]")
        teacher.wait_for_url(f"**/teach/exercises/{exercise_id}/")
        card = teacher.locator("[data-exercise-rubric]")
        expect(card).to_contain_text("Bowing · out of 7.5")
        expect(card).to_contain_text("Singing")

        # The student sees the rubric before recording.
        _log_in(student, stack, school.student)
        student.goto(stack.url(school.tenant.slug, f"/exercises/{exercise_id}/"))
        expect(student.locator("[data-student-rubric]")).to_contain_text("Bow distribution")
        _no_sideways_scroll(student, viewport, "student exercise")
        student.goto(page_set.url(stack, str(viewport["width"])))
        expect(student.locator("[data-rubric-pending]")).to_be_visible()

        # The teacher scores the reply on the compare page, next to the comments.
        teacher.goto(page_set.url(stack, str(viewport["width"])))
        expect(teacher.locator("[data-rubric-panel][data-ready=true]")).to_be_attached()
        panel = teacher.locator("[data-rubric-panel]")
        panel.get_by_label("Clear").check()
        panel.get_by_label("Even").check()
        expect(panel.locator("[data-rubric-total]")).to_contain_text("5.5 of 7.5 (not saved)")
        panel.locator("[data-rubric-note]").nth(1).fill("Save bow for the long notes")
        panel.get_by_role("button", name="Save scores").click()
        expect(teacher.locator("[data-rubric-panel][data-saved=true]")).to_be_attached()
        expect(panel.locator("[data-rubric-total]")).to_have_text("5.5 of 7.5")
        expect(teacher.locator("[data-reply-status]")).to_have_text("Reviewed")
        _no_sideways_scroll(teacher, viewport, "compare (teacher)")
        # Side by side with the comments on a wide screen, below them on a phone.
        comments = teacher.locator("section.comments").bounding_box()
        box = panel.bounding_box()
        if viewport["width"] >= 860:
            assert abs(box["y"] - comments["y"]) < 2 and box["x"] > comments["x"], (box, comments)
        else:
            assert box["y"] > comments["y"], (box, comments)

        def stored():
            with tenant_context(school.tenant):
                row = Reply.objects.get(pk=reply.pk)
                notes = sorted(RubricScore.objects.filter(reply=row).values_list("note", flat=True))
                return row.status, row.score_given, row.score_maximum, notes

        with django_db_blocker.unblock():
            assert committed(stored) == (
                Reply.Status.REVIEWED,
                5.5,
                7.5,
                ["", "Save bow for the long notes"],
            )

        # The student sees the scores after the teacher saved them.
        student.reload()
        scores = student.locator("[data-rubric-scores]")
        expect(scores).to_contain_text("Clear · 3")
        expect(scores).to_contain_text("Even · 2.5")
        expect(scores).to_contain_text("Save bow for the long notes")
        expect(student.locator("[data-rubric-total]")).to_have_text("5.5 of 7.5")
        expect(student.locator("[data-rubric-form]")).to_have_count(0)
        _no_sideways_scroll(student, viewport, "compare (student)")
    finally:
        teacher_context.close()
        student_context.close()
