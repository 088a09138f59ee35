"""The compare page fits the window for every pair of shapes (issue 13, done-when 1), in Debian's
chromium at 1280x800 and 390x844: landscape and portrait phone takes (720x1280), sound-only
recordings on either side, all processed by the real pipeline. Both pictures, the play button
and the timeline are inside the window without scrolling; nothing scrolls sideways; every
control is at least 44 x 44 px; on a phone the transport stays in view while the comments
scroll, and a swipe enlarges one side while the other stays in view as an inset.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from learning.models import Comment, MediaFile
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SECONDS = 6
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# (demonstration, reply) shapes
PAIRS = {
    "landscape-landscape": ("landscape", "landscape"),
    "landscape-portrait": ("landscape", "portrait"),
    "portrait-landscape": ("portrait", "landscape"),
    "portrait-portrait": ("portrait", "portrait"),
    "audio-landscape": ("audio", "landscape"),
    "landscape-audio": ("landscape", "audio"),
}
TIME_MAP = {"demo_ms": [0, 2000, 4000, 6000], "reply_ms": [600, 2500, 4700, 6000]}
# Pictures smaller than this (px, either side) could not be watched.
MIN_PICTURE = {"desktop": 200, "phone": 110}


@pytest.fixture(scope="module")
def pages(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("compare-layout")
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"

    def build():
        demos = {
            kind: compare.media_file(
                recording(kind, SECONDS, folder, tone_hz=440),
                purpose=MediaFile.Purpose.DEMONSTRATION,
                private_root=private,
            )
            for kind in ("landscape", "portrait", "audio")
        }
        takes = {
            kind: compare.media_file(
                recording(kind, SECONDS, folder, tone_hz=660),
                purpose=MediaFile.Purpose.REPLY,
                private_root=private,
            )
            for kind in ("landscape", "portrait", "audio")
        }
        for name, (demo, take) in PAIRS.items():
            # Comments (and, on one pair, a time map) so that markers and threads are checked.
            compare.add(
                name,
                demo=demos[demo],
                take=takes[take],
                time_map=TIME_MAP if name == "landscape-portrait" else None,
                comments=(
                    (f"{name}-reply", Comment.Side.REPLY, 2500),
                    (f"{name}-demo", Comment.Side.DEMONSTRATION, 1200),
                ),
            )

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare
    with django_db_blocker.unblock():
        committed(compare.delete)


@pytest.fixture(scope="module")
def logged_in(browser, stack, schools):
    """Storage states of a logged-in teacher, one per viewport."""
    states = {}
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        _log_in(page, stack, schools.a.teacher)
        states[name] = context.storage_state()
        context.close()
    return states


# Boxes of what must show, every visible control smaller than 44 x 44, and the page's widths.
_GEOMETRY = """
() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height};
  };
  const picture = (name) => {
    const media = document.querySelector(`[data-media=${name}]`);
    return media.matches('video') ? media : media.closest('.pane').querySelector('.screen');
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== 'hidden';
  };
  const small = [...document.querySelectorAll('.compare button, .compare select')]
    .filter(visible)
    .map((el) => ({what: el.outerHTML.slice(0, 90), ...box(el)}))
    .filter((b) => b.w < 43.5 || b.h < 43.5);
  return {
    width: document.documentElement.clientWidth, height: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    left: box(picture('left')), right: box(picture('right')),
    play: box(document.querySelector('[data-play]')),
    timeline: box(document.querySelector('[data-track]')),
    small,
  };
}
"""


_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _inside(box: dict, geometry: dict) -> bool:
    return (
        box["w"] > 0
        and box["h"] > 0
        and box["x"] >= -0.5
        and box["y"] >= -0.5
        and box["x"] + box["w"] <= geometry["width"] + 0.5
        and box["y"] + box["h"] <= geometry["height"] + 0.5
    )


def _open(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-compare][data-ready][data-comments=ready]")).to_be_attached(
        timeout=20_000
    )
    page.wait_for_function(
        "[...document.querySelectorAll('[data-media]')].every(m => m.readyState >= 1)",
        timeout=30_000,
    )
    # compare/fit.js sizes the stage in an animation frame after a change: let two pass.
    page.evaluate(_TWO_FRAMES)


def _assert_fits(geometry: dict, size: str, where: str) -> None:
    for part in ("left", "right", "play", "timeline"):
        assert _inside(geometry[part], geometry), (where, part, geometry)
    for side in ("left", "right"):
        box = geometry[side]
        assert min(box["w"], box["h"]) >= MIN_PICTURE[size], (where, side, box)
    assert geometry["scrollWidth"] <= geometry["width"], (where, geometry["scrollWidth"])
    assert geometry["small"] == [], (where, geometry["small"])


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("pair", PAIRS)
def test_both_pictures_the_play_button_and_the_timeline_fit_the_window(
    browser, stack, pages, logged_in, pair, size
):
    context = browser.new_context(viewport=VIEWPORTS[size], storage_state=logged_in[size])
    page = context.new_page()
    try:
        _open(page, pages.url(stack, pair))
        geometry = page.evaluate(_GEOMETRY)
        page.screenshot(path=str(stack.data / f"compare-{pair}-{size}.png"))
        _assert_fits(geometry, size, f"{pair} at {size}")
        if size == "phone":
            # The comments are below; scrolled there, the transport and timeline stay in view.
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            assert page.evaluate("window.scrollY") > 0, "nothing below the deck to scroll to"
            scrolled = page.evaluate(_GEOMETRY)
            assert _inside(scrolled["play"], scrolled), scrolled["play"]
            assert _inside(scrolled["timeline"], scrolled), scrolled["timeline"]
    finally:
        context.close()


def test_a_swipe_on_a_phone_enlarges_one_side_and_keeps_the_other_in_view(
    browser, stack, pages, logged_in
):
    context = browser.new_context(
        viewport=VIEWPORTS["phone"], storage_state=logged_in["phone"], has_touch=True
    )
    page = context.new_page()
    try:
        _open(page, pages.url(stack, "portrait-landscape"))
        before = page.evaluate(_GEOMETRY)
        swipe = """(direction) => {
            const stage = document.querySelector('[data-stage]');
            const r = stage.getBoundingClientRect();
            const [from, to] = direction === 'left'
                ? [r.right - 20, r.left + 20] : [r.left + 20, r.right - 20];
            const at = (type, x) => stage.dispatchEvent(new PointerEvent(type, {
                pointerType: 'touch', isPrimary: true, clientX: x, clientY: r.top + 60,
                bubbles: true,
            }));
            at('pointerdown', from); at('pointerup', to);
        }"""
        page.evaluate(swipe, "left")  # towards the reply
        stage = page.locator("[data-stage]")
        expect(stage).to_have_attribute("data-focus", "right")
        expect(page.locator("[data-enlarge=right]")).to_have_attribute("aria-pressed", "true")
        page.evaluate(_TWO_FRAMES)
        enlarged = page.evaluate(_GEOMETRY)
        for part in ("left", "right", "play", "timeline"):
            assert _inside(enlarged[part], enlarged), (part, enlarged)
        assert enlarged["right"]["h"] > before["right"]["h"] * 1.3, (before, enlarged)

        page.evaluate(swipe, "right")  # back to both
        expect(stage).not_to_have_attribute("data-focus", "right")
        page.locator("[data-enlarge=left]").click()
        expect(stage).to_have_attribute("data-focus", "left")
        page.locator("[data-enlarge=left]").click()
        expect(stage).not_to_have_attribute("data-focus", "left")
    finally:
        context.close()
