"""Exports in Debian's chromium: the archive opened from disk (file://), where index.html leads
to the exercise's page and its videos play from relative paths with no server and no network;
and the export page on the live stack (uvicorn + a Celery worker), from asking to downloading."""

from __future__ import annotations

import zipfile

import pytest
from django.test import TestCase
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from learning.exports import services
from learning.models import Export
from tests.learning.test_e2e_browser import _log_in
from tests.support.browser import committed
from tests.support.export_content import archive_of, make_content

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_the_exports_index_plays_an_exercise_next_to_its_replies(
    school_a, in_tenant, browser, tmp_path
):
    with in_tenant(school_a.tenant), TestCase.captureOnCommitCallbacks(execute=True):
        content = make_content(school_a)
        export = Export.objects.create(scope=Export.Scope.TENANT, requested_by=school_a.owner)
        export = services.export_build(export_id=export.pk)
        archive: zipfile.ZipFile = archive_of(export)
    archive.extractall(tmp_path)
    context = browser.new_context(offline=True)  # nothing may come from the network
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto((tmp_path / "index.html").as_uri())
    page.get_by_role("link", name=content.exercise.title).click()
    page.wait_for_url("**/exercises/*.html")

    videos = page.locator("video")
    assert videos.count() == 3  # the demonstration and two replies
    for selector in (".demo video", f"#reply-{content.replies[0].public_id} video"):
        video = page.locator(selector)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function(
            "v => v.currentTime > 0.5 && !v.paused && v.readyState >= 2",
            arg=video.element_handle(),
            timeout=20_000,
        )
        assert video.evaluate("v => v.error") is None
    assert page.get_by_text(content.comments[0].body).is_visible()
    assert all(url.startswith("file://") for url in requests), requests
    context.close()


def _forget_exports(tenant) -> None:
    from tenants.models import AuditEvent

    with tenant_context(tenant):
        Export.objects.all().delete()
    AuditEvent.objects.filter(tenant=tenant, action__startswith="export.").delete()


def test_the_owner_asks_follows_progress_and_downloads_on_the_live_stack(
    browser, stack, schools, tmp_path
):
    """The page, a real Celery worker and the emailed link together: the owner asks, the page
    follows the task's progress by itself, the link downloads a ZIP that opens."""
    school = schools.a
    committed(_forget_exports, school.tenant)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    try:
        _log_in(page, stack, school.owner)
        page.goto(stack.url("school-a", "/manage/export/"))
        page.get_by_role("button", name="Ask for an export").click()
        expect(page.get_by_role("button", name="An export is being written…")).to_be_disabled()
        expect(page.locator("[data-export-status] progress")).to_be_attached()
        # Nobody reloads: the page's script follows the export and reloads once it is done.
        download_button = page.get_by_role("link", name="Download")
        expect(download_button).to_be_visible(timeout=120_000)
        with page.expect_download() as downloaded:
            download_button.click()
        path = tmp_path / "export.zip"
        downloaded.value.save_as(path)
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            members = archive.read("data/members.csv").decode()
        assert school.owner.email in members and school.student.email in members
        [email] = [e for e in stack.emails() if "export" in e and school.owner.email in e]
        assert "/download/?token=" in email
    except Exception:
        print(stack.logs())
        raise
    finally:
        context.close()
        committed(_forget_exports, school.tenant)
