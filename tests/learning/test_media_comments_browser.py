"""A video note at the playhead, in Debian's chromium with a fake camera and microphone
(issue 18): on the compare page a teacher pauses at a moment, records a video note in the
comment form (MediaRecorder), which goes up through the upload API and is processed by the live
stack's real worker; the comment shows "Processing…" and then its player without a reload; the
reply's student opens the page and plays the note (its currentTime advances). At 1280x800 and
390x844, under the production Content Security Policy, with no sideways scroll on the phone.
"""

from __future__ import annotations

import os

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect, sync_playwright

from learning.models import Comment, MediaFile
from tests.learning.test_e2e_browser import _log_in
from tests.platform.test_pages_browser import AXE
from tests.support import e2e_server
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, committed, live_stack
from tests.support.compare_pages import CompareSet, recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PROCESSING_TIMEOUT_MS = 180_000
RECORD_MS = 2500
NOTE_AT_S = 2.0
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def production_policy() -> str:
    """The production settings' Content Security Policy (media from the page's own host and
    blob: URLs), which the live stack sends on every page (e2e_server.PolicyHeader)."""
    return e2e_server.production_policy()


@pytest.fixture(scope="module")
def note_stack(schools, django_db_blocker, tmp_path_factory, production_policy):
    """The live stack (web server and a real worker) under the production policy."""
    env = {"PRACTIKA_E2E_CONTENT_SECURITY_POLICY": production_policy}
    data = tmp_path_factory.mktemp("live-notes")
    with live_stack(schools, django_db_blocker, data, env) as live:
        yield live


@pytest.fixture(scope="module")
def camera_browser(note_stack, schools):
    # getUserMedia needs a secure context: the test tenant's http origin is treated as one.
    origin = note_stack.url(schools.a.tenant.slug, "/").rstrip("/")
    secure = f"--unsafely-treat-insecure-origin-as-secure={origin}"
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_MEDIA, secure]
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def page_set(note_stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("media-notes")
    compare = CompareSet(school=schools.a)
    private = note_stack.data / "private-media"

    def build():
        demo = compare.media_file(
            recording("landscape", 6, folder, tone_hz=440),
            purpose=MediaFile.Purpose.DEMONSTRATION,
            private_root=private,
        )
        for name in VIEWPORTS:
            take = compare.media_file(
                recording("landscape", 6, folder, tone_hz=660),
                purpose=MediaFile.Purpose.REPLY,
                private_root=private,
            )
            compare.add(name, demo=demo, take=take)

    with django_db_blocker.unblock():
        committed(build, timeout=600)
    yield compare

    def remove():
        with tenant_context(schools.a.tenant):
            notes = Comment.objects.filter(reply__in=compare.replies.values()).exclude(media=None)
            ids = list(notes.values_list("media_id", flat=True))
        compare.delete()
        with tenant_context(schools.a.tenant):
            MediaFile.objects.filter(pk__in=ids).delete()

    with django_db_blocker.unblock():
        committed(remove)


def _page(browser, stack, user, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    context.grant_permissions(["camera", "microphone"])
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"error: {error}"))
    _log_in(page, stack, user)
    return context, page, console


# What sticks out on the right (shown when the page scrolls sideways).
_WIDE = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 1 && e.offsetParent !== null
    && !e.closest(".bell-panel"))
  .slice(0, 8)
  .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


# The recorder's and the notes' buttons under 44 px (the uploader's included).
_SMALL = """() => [...document.querySelectorAll(
    "[data-note-recorder] button, [data-note-recorder] .dropzone")]
  .filter((e) => e.checkVisibility())
  .map((e) => [e.textContent.trim(), e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 43.5 || r.height < 43.5)
  .map(([text, r]) => `${text} ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def _accessible(page, source: str) -> None:
    """axe-core finds nothing on the page (evaluated, since the policy forbids inline scripts),
    and every visible control of the recorder is at least 44 px."""
    page.evaluate(source)
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => `${v.id}: ${v.help} at "
        "${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)"
    )
    assert not violations, violations
    assert not page.evaluate(_SMALL)


def _no_sideways_scroll(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, page.evaluate(_WIDE, width)


def _note(reply) -> Comment | None:
    return Comment.objects.filter(reply=reply).exclude(media=None).select_related("media").first()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_teacher_records_a_video_note_that_plays_for_the_student(
    camera_browser, note_stack, page_set, schools, django_db_blocker, viewport
):
    size = VIEWPORTS[viewport]
    url = page_set.url(note_stack, viewport)
    context, page, console = _page(camera_browser, note_stack, schools.a.teacher, size)
    try:
        page.goto(url)
        page.wait_for_selector("[data-compare][data-comments=ready]")
        if viewport == "phone":
            _no_sideways_scroll(page, size[0])
        page.evaluate(f"window.PractikaCompare.seek({NOTE_AT_S})")
        page.click("[data-comment-here]")
        recorder = page.locator("[data-note-recorder]")
        expect(recorder).to_be_visible()
        start = page.locator("[data-note-start=video]")
        box = start.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        start.click()
        status = page.locator("[data-note-status]")
        expect(status).to_contain_text("Recording", timeout=15_000)
        expect(page.locator("[data-note-stop]")).to_be_visible()
        expect(page.locator("[data-note-live]")).to_be_visible()
        page.wait_for_timeout(RECORD_MS)
        page.click("[data-note-stop]")
        expect(recorder).to_have_attribute("data-note-state", "uploaded", timeout=60_000)
        if viewport == "phone":
            _no_sideways_scroll(page, size[0])
        _accessible(page, AXE.read_text())
        page.fill("[data-comment-body]", "Watch my bow arm here")
        page.click("[data-comment-form] button[type=submit]")
        expect(page.locator("[data-comment-form]")).to_be_hidden()
        note = page.locator("[data-threads] [data-note-player]")
        # "Processing…" first (unless the worker was quicker), then the player, without a reload.
        expect(note).to_be_visible(timeout=PROCESSING_TIMEOUT_MS)
        assert page.evaluate("document.querySelector('[data-note-player]').tagName") == "VIDEO"
        if viewport == "phone":
            _no_sideways_scroll(page, size[0])
        _accessible(page, AXE.read_text())
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()

    reply = page_set.replies[viewport]

    def stored():
        with tenant_context(schools.a.tenant):
            comment = _note(reply)
            return comment, comment.media

    with django_db_blocker.unblock():
        comment, media = committed(stored)
    assert comment.body == "Watch my bow arm here"
    assert comment.side == Comment.Side.REPLY and comment.author_id == schools.a.teacher.pk
    assert abs(comment.at_ms - NOTE_AT_S * 1000) <= 50, comment.at_ms  # at the playhead
    assert media.purpose == MediaFile.Purpose.COMMENT and media.state == MediaFile.State.READY
    assert media.has_video and media.has_audio and 1.5 <= media.duration_s <= 4.5

    context, page, console = _page(camera_browser, note_stack, schools.a.student, size)
    try:
        page.goto(url)
        player = page.locator(f'[data-comment="{comment.public_id}"] [data-note-player]')
        expect(player).to_be_visible()
        assert page.locator("[data-note-recorder]").count() == 0  # students do not record
        page.evaluate(
            """(id) => document.querySelector(`[data-note-player="${id}"]`).play()""",
            str(media.public_id),
        )
        page.wait_for_function(
            """(id) => document.querySelector(`[data-note-player="${id}"]`).currentTime > 0.5""",
            arg=str(media.public_id),
            timeout=30_000,
        )
        if viewport == "phone":
            _no_sideways_scroll(page, size[0])
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()
