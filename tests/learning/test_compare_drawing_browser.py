"""Drawing on the frame and the feedback library on the compare page (issue 18), in Debian's
chromium under the production Content Security Policy, with real processed media: a landscape
demonstration (640x360) and a portrait phone reply (720x1280).

- A teacher pauses on a frame, draws (mouse at 1280x800, real touch at 390x844), posts the
  comment; the stored shapes are where the pointer went in the picture's own 0..1 space.
- The student sees the marks over the reply at that moment, while playing and when seeking
  there, and not elsewhere; the overlay's box is the picture's box (object-fit: contain's
  letterboxing left out) within 2 px, for the portrait reply and the landscape demonstration.
- Saved comments go into the comment box at the playhead with "l" and with Ctrl+K and the
  search box; the server counts each use. Students have no library on the page.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.models import Comment, MediaFile, SavedComment
from tests.learning.test_e2e_browser import _log_in
from tests.support import e2e_server
from tests.support.browser import committed, live_stack
from tests.support.compare_pages import CompareSet, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SECONDS = 8
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
DRAWN_AT = 2.0  # seconds of the reply (no offset: the page's t is the reply's time too)
# Every CSP violation the page meets is kept in window.__csp.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
"""


@pytest.fixture(scope="module")
def production_policy() -> str:
    return e2e_server.production_policy()


@pytest.fixture(scope="module")
def stack(schools, django_db_blocker, tmp_path_factory, production_policy):
    """The live stack, every page under the production policy."""
    env = {"PRACTIKA_E2E_CONTENT_SECURITY_POLICY": production_policy}
    data = tmp_path_factory.mktemp("live-drawing")
    with live_stack(schools, django_db_blocker, data, env) as live:
        yield live


@pytest.fixture(scope="module")
def pages(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("compare-drawing")
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"

    def build():
        demo = compare.media_file(
            recording("landscape", SECONDS, folder, tone_hz=440),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        take = compare.media_file(
            recording("portrait", SECONDS, folder, tone_hz=660),
            purpose=MediaFile.Purpose.REPLY,
            private_root=private,
        )
        for name in VIEWPORTS:
            compare.add(name, demo=demo, take=take)
        compare.add("library", demo=demo, take=take)

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare
    with django_db_blocker.unblock():
        committed(compare.delete)


def _context(browser, stack, user, size: str):
    context = browser.new_context(viewport=VIEWPORTS[size], has_touch=size == "phone")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    _log_in(page, stack, user)
    return context, page


def _open(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-compare][data-ready][data-comments=ready]")).to_be_attached(
        timeout=20_000
    )
    page.wait_for_function(
        "[...document.querySelectorAll('[data-media]')].every(m => m.readyState >= 2)",
        timeout=30_000,
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _seek(page, seconds: float) -> None:
    page.evaluate(
        "(t) => { window.PractikaCompare.pause(); window.PractikaCompare.seek(t); }", seconds
    )
    page.wait_for_function(
        "(t) => Math.abs(document.querySelector('[data-media=right]').currentTime - t) < 0.05"
        " && !document.querySelector('[data-media=right]').seeking",
        arg=seconds,
    )


# The picture's box inside a video element (object-fit: contain), and the overlay's box.
_BOXES = """
(name) => {
  const video = document.querySelector(`[data-media=${name}]`);
  const r = video.getBoundingClientRect();
  const scale = Math.min(r.width / video.videoWidth, r.height / video.videoHeight);
  const w = video.videoWidth * scale, h = video.videoHeight * scale;
  const layer = document.querySelector(`[data-drawing-layer=${name}]`).getBoundingClientRect();
  return {
    element: {x: r.left, y: r.top, w: r.width, h: r.height},
    picture: {x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, w, h},
    layer: {x: layer.left, y: layer.top, w: layer.width, h: layer.height},
    natural: [video.videoWidth, video.videoHeight],
  };
}
"""


def _assert_layer_on_picture(page, name: str) -> dict:
    boxes = page.evaluate(_BOXES, name)
    for key in ("x", "y", "w", "h"):
        assert abs(boxes["layer"][key] - boxes["picture"][key]) <= 2, (name, boxes)
    return boxes


_SHOWN = """
(id) => {
  const group = document.querySelector(`[data-drawing-layer=right] g[data-comment='${id}']`);
  return Boolean(group && group.querySelector('path, ellipse'));
}
"""


def _shown(page, comment_id: str) -> bool:
    return page.evaluate(_SHOWN, comment_id)


def _drag_mouse(page, box: dict, start, end, *, steps: int = 8) -> None:
    page.mouse.move(box["x"] + start[0] * box["w"], box["y"] + start[1] * box["h"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["w"], box["y"] + end[1] * box["h"], steps=steps)
    page.mouse.up()


def _drag_touch(page, box: dict, start, end, *, steps: int = 8) -> None:
    """A finger's drag, through Chromium's own touch input (pointer events of type touch)."""
    cdp = page.context.new_cdp_session(page)

    def at(fraction):
        return {"x": box["x"] + fraction[0] * box["w"], "y": box["y"] + fraction[1] * box["h"]}

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at(start)]})
    for n in range(1, steps + 1):
        point = [start[i] + (end[i] - start[i]) * n / steps for i in (0, 1)]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [at(point)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _no_violations(page) -> None:
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_drawing_on_a_paused_frame_shows_for_the_student_at_that_moment_only(
    browser, stack, schools, pages, size
):
    school = schools.a
    url = pages.url(stack, size)
    drag = _drag_mouse if size == "desktop" else _drag_touch

    # The teacher pauses on a frame of the reply and draws an arrow and a circle.
    context, page = _context(browser, stack, school.teacher, size)
    try:
        _open(page, url)
        _seek(page, DRAWN_AT)
        page.click("[data-comment-here]")
        tools = page.locator("[data-drawing-tools] button:visible")
        page.click("[data-draw-toggle]")
        expect(page.locator("[data-compare][data-drawing=on]")).to_be_attached()
        for button in tools.all():
            box = button.bounding_box()
            assert box["width"] >= 43.5 and box["height"] >= 43.5, button.evaluate(
                "b => b.outerHTML"
            )
        picture = _assert_layer_on_picture(page, "right")["picture"]
        drag(page, picture, (0.25, 0.3), (0.75, 0.6))  # the default tool: an arrow
        page.click("[data-draw-tool=circle]")
        page.click("[data-draw-color='#fcc419']")
        picture = _assert_layer_on_picture(page, "right")["picture"]  # the click may scroll
        drag(page, picture, (0.5, 0.5), (0.6, 0.5))
        expect(page.locator("[data-draw-count]")).to_have_text("2 marks")
        page.fill("[data-comment-body]", "Elbow higher here")
        page.click("[data-comment-form] button[type=submit]")
        expect(page.locator("[data-threads] .drawn-tag")).to_have_count(1)
        _no_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"]
    finally:
        context.close()

    with tenant_context(school.tenant):
        comment = Comment.objects.get(reply=pages.replies[size], body="Elbow higher here")
    assert comment.side == "reply" and abs(comment.at_ms - DRAWN_AT * 1000) <= 40
    arrow, circle = comment.drawing
    assert arrow["kind"] == "arrow" and arrow["color"] == "#e03131"
    for got, want in zip(arrow["points"], [[0.25, 0.3], [0.75, 0.6]], strict=True):
        assert abs(got[0] - want[0]) < 0.02 and abs(got[1] - want[1]) < 0.02, arrow
    assert circle["kind"] == "circle" and circle["color"] == "#fcc419"
    (x0, y0), (x1, y1) = circle["points"]
    # Round on the portrait picture: 10 % of its width across each way, in pixels.
    assert abs((x1 - x0) * 720 - (y1 - y0) * 1280) < 1280 * 0.02, circle
    assert abs((x0 + x1) / 2 - 0.5) < 0.02 and abs((y0 + y1) / 2 - 0.5) < 0.02, circle

    # The student: shown at that moment (seeking there, and while playing), hidden elsewhere.
    context, page = _context(browser, stack, school.student, size)
    comment_id = str(comment.public_id)
    try:
        _open(page, url)
        assert page.locator("[data-drawing-tools], [data-library-picker]").count() == 0
        assert not _shown(page, comment_id)  # at 0:00
        _seek(page, DRAWN_AT)
        assert _shown(page, comment_id)
        reply_boxes = _assert_layer_on_picture(page, "right")
        demo_boxes = _assert_layer_on_picture(page, "left")
        assert reply_boxes["natural"] == [720, 1280] and demo_boxes["natural"] == [640, 360]
        assert reply_boxes["picture"]["h"] > reply_boxes["picture"]["w"]  # portrait, upright
        page.screenshot(path=str(stack.data / f"drawing-{size}.png"))
        for seconds, shown in ((DRAWN_AT + 1.5, True), (DRAWN_AT - 0.5, False), (5.0, False)):
            _seek(page, seconds)
            assert _shown(page, comment_id) is shown, (seconds, shown)
        # A window resize moves the layer with the picture.
        page.set_viewport_size({"width": VIEWPORTS[size]["width"] - 40, "height": 700})
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        _assert_layer_on_picture(page, "right")
        # Playing through the moment: the marks come and go with the picture.
        _seek(page, DRAWN_AT - 0.8)
        page.evaluate("window.PractikaCompare.play()")
        shown_while_playing = (
            "(id) => { const v = document.querySelector('[data-media=right]');"
            " const layer = document.querySelector('[data-drawing-layer=right]');"
            " return !v.paused && v.currentTime > 2.1 && v.currentTime < 3.5"
            " && layer.dataset.shown.includes(id); }"
        )
        page.wait_for_function(shown_while_playing, arg=comment_id, timeout=10_000)
        gone_later = (
            "(id) => { const v = document.querySelector('[data-media=right]');"
            " const layer = document.querySelector('[data-drawing-layer=right]');"
            " return !v.paused && v.currentTime > 4.3 && !layer.dataset.shown.includes(id); }"
        )
        page.wait_for_function(gone_later, arg=comment_id, timeout=10_000)
        page.evaluate("window.PractikaCompare.pause()")
        _no_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    finally:
        context.close()


@pytest.fixture
def saved_pair(schools):
    """The teacher's own saved comment and one the owner shares, committed for the live
    server, and removed afterwards."""
    school = schools.a

    def make():
        with tenant_context(school.tenant):
            return (
                SavedComment.objects.create(owner=school.teacher, body="Keep the bow straight"),
                SavedComment.objects.create(
                    owner=school.owner, body="Relax the left thumb", shared=True
                ),
            )

    saved = committed(make)
    yield saved

    def remove():
        with tenant_context(school.tenant):
            SavedComment.objects.filter(pk__in=[s.pk for s in saved]).delete()

    committed(remove)


def test_a_saved_comment_goes_in_at_the_playhead_by_shortcut_and_search(
    browser, stack, schools, pages, saved_pair
):
    school = schools.a
    saved = saved_pair

    def counts():
        with tenant_context(school.tenant):
            return [SavedComment.objects.get(pk=s.pk).use_count for s in saved]

    context, page = _context(browser, stack, school.teacher, "desktop")
    try:
        _open(page, pages.url(stack, "library"))
        # "l" at the playhead: the form opens there with the search box focused.
        _seek(page, 3.0)
        page.locator("body").press("l")
        search = page.locator("[data-library-search]")
        expect(search).to_be_focused()
        expect(page.locator("[data-form-time]")).to_have_text("0:03.0")
        search.fill("thumb")
        options = page.locator("[data-library-results] [role=option]")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("Relax the left thumb")
        search.press("Enter")
        body = page.locator("[data-comment-body]")
        expect(body).to_be_focused()
        expect(body).to_have_value("Relax the left thumb")
        page.click("[data-comment-form] button[type=submit]")
        expect(page.locator("[data-threads] .comment .body")).to_have_text(["Relax the left thumb"])

        # Ctrl+K in the comment box, at another moment, inserted at the caret.
        _seek(page, 1.5)
        page.locator("body").press("c")
        body.fill("Good start. ")
        body.press("Control+k")
        expect(search).to_be_focused()
        search.fill("")
        search.press_sequentially("bow")
        search.press("Enter")  # at once: the search answers first, then it goes in
        expect(body).to_have_value("Good start. Keep the bow straight")
        # Escape closes the picker and goes back to the comment.
        body.press("Control+k")
        search.press("Escape")
        expect(page.locator("[data-library-picker]")).to_be_hidden()
        expect(body).to_be_focused()
        page.click("[data-comment-form] button[type=submit]")
        expect(page.locator("[data-threads] .comment")).to_have_count(2)
        _no_violations(page)
    finally:
        context.close()

    with tenant_context(school.tenant):
        made = {c.body: c.at_ms for c in Comment.objects.filter(reply=pages.replies["library"])}
    assert made == {"Relax the left thumb": 3000, "Good start. Keep the bow straight": 1500}
    assert committed(counts) == [1, 1]


AXE = e2e_server.ROOT / "tests" / "browser-tools" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_tools_and_the_picker_are_accessible_and_fit_a_phone(
    browser, stack, schools, pages, saved_pair, size
):
    """With the drawing tools and the library's picker open: axe-core finds nothing, every
    control is at least 44 x 44 px, and nothing scrolls sideways. (axe is injected as a
    script, so this one context sets the policy aside; the tests above keep it.)"""
    assert AXE.exists(), "axe-core is missing: run `npm ci --prefix tests/browser-tools`"
    context = browser.new_context(viewport=VIEWPORTS[size], bypass_csp=True)
    page = context.new_page()
    try:
        _log_in(page, stack, schools.a.teacher)
        _open(page, pages.url(stack, "library"))
        _seek(page, 1.0)
        page.click("[data-comment-here]")
        page.click("[data-library-open]")
        expect(page.locator("[data-library-results] [role=option]").first).to_be_attached()
        page.click("[data-draw-toggle]")
        small = page.evaluate(
            "() => [...document.querySelectorAll('.drawing-tools button, .library-bar button,"
            " .library-bar a, .library-picker button, .library-option')]"
            ".filter((b) => b.getBoundingClientRect().width > 0)"
            ".map((b) => [b.outerHTML.slice(0, 80), b.getBoundingClientRect().toJSON()])"
            ".filter(([, r]) => r.width < 43.5 || r.height < 43.5)"
        )
        assert small == []
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"]
        # The floating tools leave the picture in view.
        tools = page.locator("[data-drawing-tools]").bounding_box()
        picture = _assert_layer_on_picture(page, "right")["picture"]
        assert tools["y"] + tools["height"] <= VIEWPORTS[size]["height"] + 0.5
        assert picture["y"] >= -0.5 and picture["y"] + picture["h"] / 2 < tools["y"], picture
        page.add_script_tag(content=AXE.read_text())
        violations = page.evaluate(
            "async () => (await axe.run(document)).violations.map(v => ({"
            "id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map("
            "n => n.target.join(' '))}))"
        )
        assert violations == []
    finally:
        context.close()
