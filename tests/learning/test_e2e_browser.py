"""The core loop in a real browser (Debian's chromium through Playwright), on a real web server
and a real Celery worker (tests/support/e2e_server.py): a teacher publishes an exercise with
a demonstration video, a student uploads a reply, both are processed to `ready`, the compare
page plays them in sync, and time-coded feedback reaches the student at its moment.

Run on a desktop (1280x800) and on a phone-sized viewport (390x844).
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from learning.media.pipeline.runner import ffmpeg_exe
from learning.models import ActivityEvent, Comment, Exercise, MediaFile, Reply
from tests.conftest import PASSWORD

# django_db makes pytest-django set up the test database even when this module runs alone;
# the browser's data is committed by the live server, outside this test's transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PROCESSING_TIMEOUT_MS = 120_000
# Six +100 and one +10 on the nudge buttons: more than twice SYNC_TOLERANCE_S, so a transport
# that ignored the offset could not pass for one that keeps it.
NUDGES = ("100",) * 6 + ("10",)
OFFSET_MS = 610
# Both players run on one clock, corrected as they drift; on a loaded 2-core machine the two
# <video> elements' currentTime were measured 105 ms apart at worst: keep a margin.
SYNC_TOLERANCE_S = 0.25
PLAYED_S = 3.0  # how far the demonstration plays before the positions are compared
PLAY_TIMEOUT_MS = 60_000


def _video(path: Path, *, tone_hz: int) -> Path:
    """8 s of moving test pictures with a tone: what a phone would send, only smaller."""
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=8",
            "-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration=8",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
        timeout=120,
    )
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-videos")
    return {
        "demo": _video(folder / "demonstration.mp4", tone_hz=440),
        "reply": _video(folder / "my-take.mp4", tone_hz=660),
    }


def _delete_exercises(tenant, titles: list[str], since: datetime) -> None:
    """Delete what the live server committed for these exercises since `since`: the
    exercises and their media, and the activity it caused (events, notifications, milestones,
    and the rollups, rebuilt from the events that remain), which later tests count."""
    from django.db import connections

    from analytics import rollups
    from analytics.models import Milestone, Notification

    try:
        with tenant_context(tenant):
            for exercise in Exercise.objects.filter(title__in=titles):
                media = [exercise.demo_id, *exercise.replies.values_list("media_id", flat=True)]
                exercise.delete()
                MediaFile.objects.filter(pk__in=[m for m in media if m]).delete()
            ActivityEvent.objects.filter(occurred_at__gte=since).delete()
            Notification.objects.filter(created_at__gte=since).delete()
            Milestone.objects.filter(created_at__gte=since).delete()
            rollups.rebuild()
    finally:
        connections.close_all()


@pytest.fixture
def cleanup(schools):
    """The live server committed the browser's data: delete it after the test, on a
    connection of its own (a new thread), since this test's transaction is rolled back."""
    titles: list[str] = []
    since = timezone.now()
    yield titles
    worker = threading.Thread(target=_delete_exercises, args=(schools.a.tenant, titles, since))
    worker.start()
    worker.join(timeout=60)


def _log_in(page: Page, stack, user) -> None:
    page.goto(stack.url("school-a", "/accounts/login/"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, "login failed"


def _positions(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const left = document.querySelector('[data-media=left]');
            const right = document.querySelector('[data-media=right]');
            return {left: left.currentTime, right: right.currentTime,
                    leftPaused: left.paused, rightPaused: right.paused,
                    t: window.PractikaCompare.positions().t,
                    stats: window.PractikaCompare.stats(),
                    offset: window.PractikaCompare.positions().offset};
        }"""
    )


def _core_loop(browser, stack, schools, videos, cleanup, viewport: dict) -> None:
    school = schools.a
    title = f"E2E minuet {viewport['width']} {uuid.uuid4().hex[:6]}"
    cleanup.append(title)
    teacher_context = browser.new_context(viewport=viewport)
    student_context = browser.new_context(viewport=viewport)
    teacher, student = teacher_context.new_page(), student_context.new_page()
    try:
        # The teacher creates an exercise and uploads the demonstration.
        _log_in(teacher, stack, school.teacher)
        teacher.goto(stack.url("school-a", "/teach/exercises/new/"))
        teacher.fill("#id_title", title)
        teacher.fill("#id_instructions", "Play bars 1-8 **slowly**.")
        teacher.set_input_files("[data-upload-input]", str(videos["demo"]))
        expect(teacher.locator("#id_demo")).not_to_have_value("", timeout=30_000)
        teacher.click("button[name=publish]")
        expect(teacher.locator("h1")).to_contain_text(title)
        expect(teacher.locator("h1 .badge")).to_have_text("Published")
        # The page shows the processing state live and reloads with a player once ready.
        expect(teacher.locator("video.player")).to_be_visible(timeout=PROCESSING_TIMEOUT_MS)

        # The student sees it, and uploads a reply.
        _log_in(student, stack, school.student)
        student.goto(stack.url("school-a", "/exercises/"))
        student.locator("main").get_by_text(title).first.click()
        expect(student.locator("#demo-player")).to_be_visible()
        student.set_input_files("[data-upload-input]", str(videos["reply"]))
        # The upload of the reply runs in the page first; on a loaded 2-core machine it has taken
        # over 30 s (a wait, not a timing assertion).
        expect(student.locator("[data-reply-submit]")).to_be_enabled(timeout=120_000)
        student.fill("#id_note", "My first take")
        student.click("[data-reply-submit]")
        expect(student.locator(".compare")).to_be_visible()
        reply_url = student.url
        expect(student.locator("[data-media=right]")).to_be_attached(
            timeout=PROCESSING_TIMEOUT_MS
        )
        expect(student.locator("[data-media=left]")).to_be_attached()

        # The teacher opens the reply from the inbox and lines it up: +210 ms, saved.
        teacher.goto(stack.url("school-a", "/teach/inbox/"))
        teacher.locator("main").get_by_text(title).first.click()
        assert teacher.url == reply_url
        expect(teacher.locator("[data-compare][data-ready]")).to_be_attached()
        for step in NUDGES:
            teacher.click(f"[data-nudge='{step}']")
        expect(teacher.locator("[data-offset]")).to_have_text(f"{OFFSET_MS} ms")
        expect(teacher.locator(f"[data-compare][data-saved-offset-ms='{OFFSET_MS}']")).to_be_attached(
            timeout=10_000
        )
        teacher.reload()
        expect(teacher.locator("[data-compare][data-ready]")).to_be_attached()
        assert teacher.evaluate("window.PractikaCompare.positions().offset") == pytest.approx(
            OFFSET_MS / 1000
        )

        # One transport plays both: once 3 s have played they are at the saved offset.
        assert sum(int(step) for step in NUDGES) == OFFSET_MS > 2 * SYNC_TOLERANCE_S * 1000
        teacher.wait_for_function(
            "[...document.querySelectorAll('[data-media]')].every(m => m.readyState >= 3)",
            timeout=30_000,
        )
        teacher.click("[data-play]")
        # Waiting for the players, not the wall clock: a loaded machine plays late, not wrong.
        teacher.wait_for_function(
            """(s) => [...document.querySelectorAll('[data-media]')]
                .every(m => !m.paused && m.currentTime > s)""",
            arg=PLAYED_S - OFFSET_MS / 1000, timeout=PLAY_TIMEOUT_MS,
        )
        teacher.wait_for_function(
            "(s) => document.querySelector('[data-media=left]').currentTime > s",
            arg=PLAYED_S, timeout=PLAY_TIMEOUT_MS,
        )
        now = _positions(teacher)
        assert not now["leftPaused"] and not now["rightPaused"], now
        assert now["left"] > 2.0, now
        assert abs(now["left"] - now["right"] - OFFSET_MS / 1000) < SYNC_TOLERANCE_S, now

        # The teacher comments at the playhead with the `c` key.
        teacher.keyboard.press("c")
        expect(teacher.locator("[data-comment-form]")).to_be_visible()
        paused_at = _positions(teacher)["t"]
        teacher.fill("[data-comment-body]", "Listen to the bow change <b>here</b>")
        teacher.click("[data-comment-form] button[type=submit]")
        expect(teacher.locator("[data-threads] .comment .body")).to_have_text(
            "Listen to the bow change <b>here</b>"
        )
        with tenant_context(school.tenant):
            comment = Comment.objects.get(reply__exercise__title=title)
            reply = Reply.objects.get(exercise__title=title)
        connection.set_schema_to_public()
        assert reply.sync_offset_ms == OFFSET_MS
        assert comment.side == "reply"
        assert comment.at_ms == pytest.approx((paused_at - OFFSET_MS / 1000) * 1000, abs=2)

        # The student sees it at that time on the timeline, and the marker seeks both sides.
        student.goto(reply_url)
        expect(student.locator("[data-compare][data-ready]")).to_be_attached()
        marker = student.locator(".marker")
        expect(marker).to_have_count(1)
        assert int(marker.get_attribute("data-at-ms")) == comment.at_ms
        marker_t = float(marker.get_attribute("data-t"))
        assert marker_t == pytest.approx(paused_at, abs=0.01)
        track = student.locator("[data-track]").bounding_box()
        box = marker.bounding_box()
        duration = student.evaluate(
            "(offset) => Math.max(document.querySelector('[data-media=left]').duration,"
            " document.querySelector('[data-media=right]').duration + offset)",
            OFFSET_MS / 1000,
        )
        centre = box["x"] + box["width"] / 2
        assert centre == pytest.approx(track["x"] + track["width"] * marker_t / duration, abs=3)
        expect(student.locator("[data-threads] .body")).to_have_text(
            "Listen to the bow change <b>here</b>"
        )
        marker.click()
        seeked = _positions(student)
        assert seeked["t"] == pytest.approx(marker_t, abs=0.05)
        assert seeked["left"] == pytest.approx(marker_t, abs=0.05)
        assert seeked["right"] == pytest.approx(marker_t - OFFSET_MS / 1000, abs=0.05)
    except Exception:
        print(stack.logs())
        raise
    finally:
        teacher_context.close()
        student_context.close()


def test_core_loop_on_a_desktop(browser, stack, schools, videos, cleanup):
    _core_loop(browser, stack, schools, videos, cleanup, {"width": 1280, "height": 800})


def test_core_loop_on_a_phone(browser, stack, schools, videos, cleanup):
    _core_loop(browser, stack, schools, videos, cleanup, {"width": 390, "height": 844})
