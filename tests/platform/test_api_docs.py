"""The API docs (`/api/docs/`) work without internet: Swagger UI's files are served from our
own static files (drf-spectacular-sidecar), and the page needs no inline script, so the
production Content Security Policy (`script-src 'self'`) lets it run."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from playwright.sync_api import expect

from tests.conftest import client_for
from tests.support import e2e_server

ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.mark.parametrize("where", ["public", "tenant"])
def test_the_docs_page_loads_every_asset_from_our_own_host(where, school_a, settings):
    client = (
        Client(HTTP_HOST=settings.BASE_DOMAIN)
        if where == "public"
        else client_for(school_a.teacher, school_a.host)
    )

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert not INLINE_SCRIPT.search(html), "the production CSP would block an inline script"
    assets = _assets(html)
    scripts = [a for a in assets if "swagger-ui" in a and a.endswith(".js")]
    assert len(scripts) == 2 and any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.scheme and not parts.netloc, f"{asset} is not on our host"
    for asset in assets:
        if asset.startswith(settings.STATIC_URL):
            path = asset.removeprefix(settings.STATIC_URL).split("?")[0]
            assert finders.find(path), f"{path} is not among our static files"
    # The set-up script is ours too, a request of its own, and points at our schema
    setup = next(a for a in assets if "script=" in a).replace("&amp;", "&")
    script = client.get(setup)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


@pytest.mark.browser
@pytest.mark.django_db
def test_the_docs_render_in_a_browser_that_can_reach_only_our_server(browser, stack):
    page = browser.new_page()
    outside: list[str] = []

    def only_ours(route):
        host = urlsplit(route.request.url).hostname or ""
        if host == e2e_server.BASE_DOMAIN or host.endswith("." + e2e_server.BASE_DOMAIN):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    try:
        page.goto(f"http://{e2e_server.BASE_DOMAIN}:{stack.port}/api/docs/")
        # Swagger UI drew the schema: its title and at least one operation
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Practika API")
        expect(page.locator(".opblock").first).to_be_visible()
        assert outside == []
    finally:
        page.close()
