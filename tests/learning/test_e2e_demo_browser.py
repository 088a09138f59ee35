"""Done-when 6 of issue 13, in a real browser on the live stack: the demo's sample (made as
`make dev` makes it, learning.demo_content) is in the teacher's inbox, and its compare page
plays both sides with the analysis shown."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning import demo_content
from tests.conftest import member
from tests.learning.test_e2e_browser import _delete_exercises, _log_in
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PLAY_TIMEOUT_MS = 60_000


@pytest.fixture
def seeded(schools, stack, settings, tmp_path):
    """The sample, stored where the live server reads recordings, and removed afterwards."""
    settings.PRIVATE_MEDIA_ROOT = str(stack.data / "private-media")
    school = schools.a
    since = timezone.now()

    def seed():
        recordings = demo_content.demo_recordings(tmp_path)
        with tenant_context(school.tenant):
            return demo_content.demo_content_ensure(
                teacher=member(school.teacher, school.tenant),
                student=member(school.student, school.tenant),
                recordings=recordings,
            )

    reply = committed(seed, timeout=300)
    assert reply is not None
    yield reply
    committed(_delete_exercises, school.tenant, [demo_content.TITLE], since)


def test_the_demo_reply_is_in_the_inbox_and_its_compare_page_plays_with_the_analysis(
    browser, stack, schools, seeded
):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        _log_in(page, stack, schools.a.teacher)
        page.goto(stack.url("school-a", "/teach/inbox/"))
        page.locator("main").get_by_text(demo_content.TITLE).first.click()
        expect(page.locator("[data-compare][data-ready]")).to_be_attached(timeout=30_000)

        # The analysis is shown: the rushed passage listed, the overall tempo summarised
        expect(page.locator("[data-band-list] li").first).to_contain_text("Rushed")
        expect(page.locator("[data-analysis]")).to_contain_text("tempo")

        # Both sides play
        page.wait_for_function(
            "[...document.querySelectorAll('[data-media]')].every(m => m.readyState >= 3)",
            timeout=30_000,
        )
        page.click("[data-play]")
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-media]')]
                .every(m => !m.paused && m.currentTime > 1.5)""",
            timeout=PLAY_TIMEOUT_MS,
        )
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('[data-media]')]
                .map(m => [m.videoWidth, m.videoHeight])"""
        )
        assert sorted(sizes) == sorted([[640, 360], [360, 640]]), sizes
    finally:
        context.close()
