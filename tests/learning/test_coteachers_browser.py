"""Co-teachers in Debian's chromium at 1280x800 and 390x844: two teachers' comments on one
reply each show their author on the compare page, the page's reviewer control assigns the
reply and the inbox's filter then lists it, a teacher of another class gets the reply's 404,
and none of these pages scrolls sideways on a phone."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Classroom, Comment, MediaFile
from tenants.models import AuditEvent, Membership, Role, User
from tests.conftest import PASSWORD
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, recording
from tests.support.factories import CommentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
COLLEAGUE = "Cora Colleague"
OUTSIDER = "Otto Outsider"


@pytest.fixture(scope="module")
def staffroom(stack, schools, tmp_path_factory, django_db_blocker):
    """A reply by school A's student, with a comment by its exercise's teacher and one by a
    colleague who teaches the student's class; an outsider teaches another class."""
    folder = tmp_path_factory.mktemp("coteachers")
    compare = CompareSet(school=schools.a)
    school = schools.a
    tag = uuid.uuid4().hex[:6]
    made: dict = {}

    def build():
        private = stack.data / "private-media"
        demo = compare.media_file(
            recording("landscape", 4, folder),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        take = compare.media_file(
            recording("landscape", 4, folder, tone_hz=660),
            purpose=MediaFile.Purpose.REPLY,
            private_root=private,
        )
        reply = compare.add("shared", demo=demo, take=take)
        for key, name in (("colleague", COLLEAGUE), ("outsider", OUTSIDER)):
            user = User.objects.create_user(
                email=f"{key}-{tag}@school-a.example.com", password=PASSWORD, full_name=name
            )
            Membership.objects.create(user=user, tenant=school.tenant, role=Role.TEACHER)
            made[key] = user
        with tenant_context(school.tenant):
            ours = Classroom.objects.create(name=f"Strings {tag}", created_by=school.teacher)
            ours.teachers.set([school.teacher, made["colleague"]])
            ours.students.set([school.student])
            theirs = Classroom.objects.create(name=f"Winds {tag}", created_by=made["outsider"])
            theirs.teachers.set([made["outsider"]])
            made["classes"] = [ours.pk, theirs.pk]
            for author, body in (
                (school.teacher, "Bow nearer the bridge"),
                (made["colleague"], "Breathe before the phrase"),
            ):
                CommentFactory(
                    reply=reply, author=author, side=Comment.Side.REPLY, at_ms=1500, body=body
                )

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare, made
    with django_db_blocker.unblock():

        def clean():
            compare.delete()
            AuditEvent.objects.filter(
                tenant=school.tenant, created_at__gte=compare.since, action__startswith="reply."
            ).delete()
            # In the school's schema: deleting a user reaches the classes' rosters there.
            with tenant_context(school.tenant):
                Classroom.objects.filter(pk__in=made["classes"]).delete()
                for key in ("colleague", "outsider"):
                    Membership.objects.filter(user=made[key]).delete()
                    User.objects.filter(pk=made[key].pk).delete()

        committed(clean)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_two_teachers_comments_show_their_authors_and_the_reviewer_control_assigns(
    browser, stack, schools, staffroom, size
):
    compare, made = staffroom
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        _log_in(page, stack, made["colleague"])
        page.goto(compare.url(stack, "shared"))
        threads = page.locator("[data-threads]")
        expect(threads.locator(".comment", has_text="Bow nearer the bridge")).to_contain_text(
            schools.a.teacher.display_name
        )
        expect(threads.locator(".comment", has_text="Breathe before the phrase")).to_contain_text(
            COLLEAGUE
        )
        _no_sideways_scroll(page)

        page.select_option("#assign-reviewer", label=f"{COLLEAGUE} (me)")
        page.click("section.assign button[type=submit]")
        expect(page.locator("[data-assigned-to]")).to_have_text(COLLEAGUE)
        _no_sideways_scroll(page)

        page.goto(stack.url("school-a", "/teach/inbox/"))
        page.select_option("#inbox-assignee", value="me")
        page.click("form[role=search] button[type=submit]")
        expect(page.locator(".item-list")).to_contain_text("Compare shared")
        assert "assignee=me" in page.url
        _no_sideways_scroll(page)
        page.select_option("#inbox-assignee", value="unassigned")
        page.click("form[role=search] button[type=submit]")
        expect(page.locator("main")).not_to_contain_text("Compare shared")
    finally:
        context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_teacher_of_another_class_gets_404_and_admins_see_open_work(
    browser, stack, schools, staffroom, size
):
    compare, made = staffroom
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        _log_in(page, stack, made["outsider"])
        response = page.goto(compare.url(stack, "shared"))
        assert response.status == 404
        context.clear_cookies()
        _log_in(page, stack, schools.a.owner)
        page.goto(stack.url("school-a", "/manage/open-work/"))
        expect(page.locator("[data-open-work]")).to_contain_text(COLLEAGUE)
        _no_sideways_scroll(page)
    finally:
        context.close()
