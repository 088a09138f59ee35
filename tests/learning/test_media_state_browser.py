"""A recording's live state on its page (learning.js), in a real browser against the live stack:
the page asks for the state 2 s after it opens and then less and less often (2, 5, 9.5 s after
opening, then every 10 s at most), and shows the new state when the worker is done, without a
reload for a failure."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Exercise, MediaFile
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.factories import ExerciseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TITLE = "Browser exercise whose demonstration is processing"
WATCHED_S = 11  # three polls with the back-off (at 2, 5 and 9.5 s); five at a fixed 2 s


@pytest.fixture(autouse=True)
def _database_reachable(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def processing(schools):
    school = schools.a

    def remove():
        with tenant_context(school.tenant):
            demos = list(Exercise.objects.filter(title=TITLE).values_list("demo_id", flat=True))
            Exercise.objects.filter(title=TITLE).delete()
            MediaFile.objects.filter(pk__in=demos).delete()

    def make():
        with tenant_context(school.tenant):
            exercise = ExerciseFactory(
                created_by=school.teacher, assign_to_all=True, title=TITLE,
                demo__state=MediaFile.State.PROCESSING,
            )  # fmt: skip
            return exercise.public_id, exercise.demo.public_id

    committed(remove)
    yield committed(make)
    committed(remove)


def test_the_state_is_polled_less_and_less_often_and_shows_when_it_changes(
    browser, stack, schools, processing
):
    exercise_id, demo_id = processing
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _log_in(page, stack, schools.a.student)

    polls: list[float] = []
    page.on(
        "request",
        lambda request: polls.append(time.monotonic())
        if f"/api/v1/media/{demo_id}/" in request.url else None,
    )  # fmt: skip
    opened = time.monotonic()
    page.goto(stack.url("school-a", f"/exercises/{exercise_id}/"))
    badge = page.locator("[data-media-state]")
    expect(badge).to_contain_text("Processing")
    page.wait_for_timeout(WATCHED_S * 1000)
    assert 2 <= len(polls) <= 3, [round(t - opened, 1) for t in polls]
    gaps = [later - earlier for earlier, later in pairwise(polls)]
    assert all(gap >= 2.5 for gap in gaps), gaps  # each wait longer than the first 2 s

    def fail():
        with tenant_context(schools.a.tenant):
            MediaFile.objects.filter(public_id=demo_id).update(
                state=MediaFile.State.FAILED, error_message="The file has no video or audio."
            )

    committed(fail)
    # The next poll is at most 10 s away: the page says so without a reload.
    expect(badge).to_contain_text("Failed", timeout=15_000)
    expect(page.locator("[data-media-error]")).to_have_text("The file has no video or audio.")
    page.context.close()
