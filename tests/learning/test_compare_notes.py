"""The aligned piano roll (issue 14, done-when 5), in Debian's chromium at 1280x800 and 390x844:
a generated demonstration and a reply with one planted wrong note go through the real
pipeline and the real analysis (services.alignment_compute: decode, alignment, Basic Pitch on
both takes, the note comparison); the compare page lists the wrong note with both names,
shows it as a band, names it in the teacher's summary, and the piano roll marks it, in its
colour, at its time once the page plays from there. Nothing scrolls sideways on the phone and
the roll is no wider than its card."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.alignment import services as alignment_services
from learning.models import Alignment, MediaFile
from tests.learning.test_e2e_browser import _log_in
from tests.support import note_pairs
from tests.support.browser import committed
from tests.support.compare_pages import CompareSet, processed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WRONG = (224, 49, 49)  # pianoroll.js's colour for a wrong note (#e03131)


@pytest.fixture(scope="module")
def noted(stack, schools, tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("compare-notes")
    pair = note_pairs.synthetic("wrong", seconds=12.0, kinds=("wrong_note",), every_s=30.0, seed=5)
    (planted,) = pair.planted
    demo_path = folder / "demo.wav"
    reply_path = folder / "reply.wav"
    note_pairs.write_wav(pair.demo, demo_path)
    note_pairs.write_wav(pair.reply, reply_path)
    compare = CompareSet(school=schools.a)
    private = stack.data / "private-media"

    def build():
        school = schools.a
        with tenant_context(school.tenant):
            demo = processed(
                demo_path,
                owner=school.teacher,
                purpose=MediaFile.Purpose.DEMONSTRATION,
                private_root=private,
            )
            take = processed(
                reply_path,
                owner=school.student,
                purpose=MediaFile.Purpose.REPLY,
                private_root=private,
            )
        compare.media += [demo.pk, take.pk]
        reply = compare.add("wrong-note", demo=demo, take=take)
        with tenant_context(school.tenant), override_settings(PRIVATE_MEDIA_ROOT=str(private)):
            alignment = alignment_services.alignment_compute(reply_id=reply.pk, force=True)
        assert alignment.status == Alignment.Status.READY, alignment.reason
        return alignment

    with django_db_blocker.unblock():
        alignment = committed(build, timeout=600)
    errors = alignment.summary["piano_roll"]["errors"]
    yield compare, planted, errors
    with django_db_blocker.unblock():
        committed(compare.delete)


def test_the_stored_analysis_has_the_planted_wrong_note_and_nothing_else(noted):
    _, planted, errors = noted
    (error,) = errors
    assert error["kind"] == "wrong_note"
    assert abs(error["at_ms"] / 1000 - planted.at_s) <= 0.1


# Where the roll drew the error: the canvas pixel of its tick (top rows, at its time).
_MARK = """(atMs) => {
  const canvas = document.querySelector('[data-piano-roll-canvas]');
  const d = canvas.dataset;
  const start = Number(d.startMs), end = Number(d.endMs);
  const ratio = canvas.width / canvas.clientWidth;
  const x = Math.floor(((atMs - start) / (end - start)) * canvas.clientWidth * ratio);
  const pixel = canvas.getContext('2d').getImageData(x, Math.round(3 * ratio), 1, 1).data;
  const box = canvas.getBoundingClientRect();
  const card = canvas.closest('.analysis').getBoundingClientRect();
  return {
    start, end, marked: Number(d.marked), pixel: [...pixel].slice(0, 3),
    left: box.left, right: box.right, cardLeft: card.left, cardRight: card.right,
    width: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_piano_roll_marks_the_wrong_note_at_its_time(browser, stack, schools, noted, size):
    compare, planted, errors = noted
    (error,) = errors
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        _log_in(page, stack, schools.a.teacher)
        page.goto(compare.url(stack, "wrong-note"))
        expect(page.locator("[data-compare][data-ready]")).to_be_attached(timeout=20_000)
        roll = page.locator("[data-piano-roll]")
        expect(roll).to_be_visible(timeout=20_000)

        # The band list names it and plays from there; the roll follows.
        item = page.locator(".band-item.band-wrong_note")
        expect(item).to_have_count(1)
        expect(item).to_contain_text(f"{error['note']} played as {error['played_note']}")
        expect(page.locator(".band.band-wrong_note")).to_have_count(1)
        expect(page.locator("[data-align-summary]")).to_contain_text("Notes: 1 wrong, 0 missed")
        item.locator("button").click()
        page.wait_for_function(
            "() => Number(document.querySelector('[data-piano-roll-canvas]').dataset.marked) > 0",
            timeout=10_000,
        )
        mark = page.evaluate(_MARK, error["at_ms"])
        page.screenshot(path=str(stack.data / f"compare-notes-{size}.png"), full_page=True)

        assert mark["start"] <= planted.at_s * 1000 <= mark["end"], mark
        assert mark["marked"] == 1, mark
        assert all(abs(a - b) <= 40 for a, b in zip(mark["pixel"], WRONG, strict=True)), mark
        assert mark["scrollWidth"] <= mark["width"], mark
        assert mark["cardLeft"] - 0.5 <= mark["left"] and mark["right"] <= mark["cardRight"] + 0.5
    finally:
        context.close()
