"""Sync a musician trusts (issue 13, done-when 2), in Debian's chromium with real processed
media: the compare page plays a demonstration and a reply at 1x, by the manual offset and
along auto-sync's time map, and the follower stays where it should be, steered by its rate:
no corrective jumps after the first second in manual mode. bench/sync.py measures the same
for 20 s against the targets (p95 <= 30 ms); this test keeps a looser bound, so that a loaded
2-core machine does not make it flaky, yet far below what the jumping transport did (11-19
jumps in 12 s, errors up to 190 ms).
"""

from __future__ import annotations

import pytest

from learning.models import MediaFile
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, measure_sync, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PLAY_S = 8.0
OFFSET_MS = 400  # the reply plays 0.4 s behind the demonstration
# Tempo that changes under the follower: 5 % fast, 5 % slow, 5 % fast, after a late start.
TIME_MAP = {"demo_ms": [0, 4000, 8000, 12000], "reply_ms": [700, 4900, 8700, 12900]}
P95_BOUND_MS = 150
MANUAL_SEEKS_BOUND = 1


@pytest.fixture(scope="module")
def sync_pages(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("compare-sync")
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"

    def build():
        demo = compare.media_file(
            recording("landscape", 12, folder, tone_hz=440),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        take = compare.media_file(
            recording("landscape", 14, folder, tone_hz=660),
            purpose=MediaFile.Purpose.REPLY,
            private_root=private,
        )
        compare.add("manual", demo=demo, take=take, offset_ms=OFFSET_MS)
        compare.add("auto", demo=demo, take=take, time_map=TIME_MAP)

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare
    with django_db_blocker.unblock():
        committed(compare.delete)


@pytest.mark.parametrize("mode", ["manual", "auto"])
def test_the_follower_is_steered_not_jumped(browser, stack, schools, sync_pages, mode):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        _log_in(page, stack, schools.a.teacher)
        page.goto(sync_pages.url(stack, mode))
        page.wait_for_selector("[data-compare][data-ready][data-comments=ready]")
        figures = measure_sync(page, mode=mode, seconds=PLAY_S)
        print(f"sync {mode}: {figures}")
        assert figures["played_s"] > PLAY_S * 0.8, figures
        assert figures["p95_ms"] < P95_BOUND_MS, figures
        if mode == "manual":
            assert figures["seeks_after_warmup"] <= MANUAL_SEEKS_BOUND, figures
    finally:
        context.close()
