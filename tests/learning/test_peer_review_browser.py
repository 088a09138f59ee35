"""A student reviews a classmate's reply anonymously on a phone (390 x 844) in Debian's
chromium: from the peer review list to the compare page, where the classmate is "Classmate",
the recording plays from its signed URL, and a time-coded comment is posted; the page does not
scroll sideways, and the review shows done in the list. The teacher then sees the comment
marked as a peer review and hides it, and the reply's student no longer sees it."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Exercise, MediaFile, PeerReview
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def peer_set(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("peer-review")
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"
    school = schools.a

    def build():
        demo = compare.media_file(
            recording("landscape", 6, folder, tone_hz=440),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        take = compare.media_file(
            recording("landscape", 6, folder, tone_hz=660),
            purpose=MediaFile.Purpose.REPLY,
            private_root=private,
        )
        reply = compare.add("peer", demo=demo, take=take)
        with tenant_context(school.tenant):
            Exercise.objects.filter(pk=reply.exercise_id).update(
                peer_review_count=1, peer_review_anonymous=True
            )
            PeerReview.objects.create(
                exercise_id=reply.exercise_id,
                reviewer=school.other_student,
                reply=reply,
                reviewee=school.student,
            )

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare
    with django_db_blocker.unblock():
        committed(compare.delete)


def test_a_student_reviews_a_classmate_anonymously_on_a_phone(browser, stack, schools, peer_set):
    school = schools.a
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _log_in(page, stack, school.other_student)
        # The list: one review to do, the classmate unnamed
        page.goto(stack.url("school-a", "/peer-reviews/"))
        item = page.locator("[data-peer-review]")
        expect(item).to_have_count(1)
        expect(item.locator("[data-to-do]")).to_be_visible()
        assert school.student.email not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # The compare page: "Classmate", the guide, the recording playing from its signed URL
        item.locator("a").click()
        page.wait_for_url("**/replies/*/")
        expect(page.locator("[data-peer-classmate]")).to_contain_text("Classmate")
        expect(page.locator("[data-peer-guide]")).to_be_visible()
        expect(page.locator("[data-compare][data-comments=ready]")).to_be_attached(timeout=20_000)
        html = page.content()
        assert school.student.email not in html
        assert "data-sync" not in html  # the classmate's sync is not theirs to move
        page.wait_for_function(
            "document.querySelector('[data-media=right]').readyState >= 2", timeout=20_000
        )

        # A comment at the playhead, posted and shown under the reviewer's own name
        page.locator("[data-comment-here]").click()
        page.fill("[data-comment-body]", "Lovely even bow strokes here")
        page.locator("[data-comment-form] button[type=submit]").click()
        thread = page.locator("[data-threads] [data-comment]")
        expect(thread).to_have_count(1, timeout=10_000)
        expect(thread).to_contain_text("Lovely even bow strokes here")
        expect(thread.locator(".peer-badge")).to_have_text("Peer review")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # Back in the list, the review is done
        page.goto(stack.url("school-a", "/peer-reviews/"))
        expect(page.locator("[data-peer-review] [data-done]")).to_be_visible()
        reply_url = peer_set.url(stack, "peer")
    finally:
        context.close()

    # The teacher sees the comment marked as a peer review, and hides it from students
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        _log_in(page, stack, school.teacher)
        page.goto(reply_url)
        thread = page.locator("[data-threads] [data-comment][data-peer=true]")
        expect(thread).to_have_count(1, timeout=20_000)
        thread.locator("[data-peer-hide=hide]").click()
        expect(thread.locator(".peer-hidden-badge")).to_have_text("Hidden from students")
        expect(thread.locator("[data-peer-hide=show]")).to_be_visible()
    finally:
        context.close()

    # And the reply's student no longer sees it
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _log_in(page, stack, school.student)
        page.goto(reply_url)
        expect(page.locator("[data-compare][data-comments=ready]")).to_be_attached(timeout=20_000)
        expect(page.locator("[data-threads] [data-comment]")).to_have_count(0)
    finally:
        context.close()
