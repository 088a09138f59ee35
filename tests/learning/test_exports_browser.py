"""An export opened from disk (file://) in Debian's chromium: index.html leads to the exercise's
page, and its videos play from the archive's relative paths, with no server and no network."""

from __future__ import annotations

import zipfile

import pytest
from django.test import TestCase

from learning.exports import services
from learning.models import Export
from tests.learning.exports_content import archive_of, make_content

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
