"""Every main page in a real browser (Debian's chromium through Playwright, on the live stack of
tests/support/e2e_server.py), on a desktop (1280x800) and on a phone (390x844):

- axe-core (from npm, tests/browser-tools) finds no accessibility violation, at both sizes;
- on the phone, no page scrolls sideways and every visible button (and button-like link) is
  at least 44 x 44 px;
- no page asks for a file that is not there (the favicon, a stylesheet, a logo);
- on the phone the site's links fold into a menu that opens and closes from a button.

The pages are those of the public site, of a school's teacher, student and admin, and of the
platform staff, with an exercise, a reply and a comment made from real recordings
(tests/support/page_tour.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from tenants.models import User
from tests.conftest import PASSWORD, enrol_totp, totp_code
from tests.learning.test_e2e_browser import _delete_exercises
from tests.support import e2e_server, page_tour
from tests.support.browser import committed

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "browser-tools" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MIN_TARGET_PX = 44
STAFF_EMAIL = "pages-staff@practika.test"
# What a finger presses: buttons, and links or summaries that look and act like buttons.
BUTTONS = (
    "button, summary, [role=button], input[type=submit], input[type=button], "
    "input[type=reset], a.button"
)

SMALL_BUTTONS_JS = """([selector, min]) => [...document.querySelectorAll(selector)]
    .filter(el => {
        const r = el.getBoundingClientRect();
        // Not in a closed <details>, not display:none or visibility:hidden.
        return r.width > 0 && r.height > 0
            && el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true});
    })
    .map(el => ({el, r: el.getBoundingClientRect()}))
    .filter(({r}) => r.width < min - 0.5 || r.height < min - 0.5)
    .map(({el, r}) => `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''}`
        + ` "${(el.textContent || el.value || el.getAttribute('aria-label') || '').trim()
        .slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def _public(stack, path: str) -> str:
    return f"http://{e2e_server.BASE_DOMAIN}:{stack.port}{path}"


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE.exists(), "axe-core is missing: run `npm ci --prefix tests/browser-tools`"
    return AXE.read_text()


@pytest.fixture(scope="module")
def tour(stack, schools, django_db_blocker):
    from django.utils import timezone

    school = schools.a
    since = timezone.now()
    with django_db_blocker.unblock():
        made = committed(
            lambda: page_tour.seed(
                tenant=school.tenant,
                teacher=school.teacher,
                student=school.student,
                private_media_root=stack.data / "private-media",
            ),
            timeout=300,
        )
    yield made
    with django_db_blocker.unblock():
        committed(_delete_exercises, school.tenant, [made.title], since)


@pytest.fixture(scope="module")
def staff_secret(schools, django_db_blocker):
    def create() -> str:
        with tenant_context(schools.a.tenant):  # left by an interrupted run
            User.objects.filter(email=STAFF_EMAIL).delete()
        user = User.objects.create_user(email=STAFF_EMAIL, password=PASSWORD, is_staff=True)
        return enrol_totp(user)

    with django_db_blocker.unblock():
        secret = committed(create)
    yield secret

    def delete() -> None:
        # Tenant tables point at users: delete where they exist (a school's schema).
        with tenant_context(schools.a.tenant):
            User.objects.filter(email=STAFF_EMAIL).delete()

    with django_db_blocker.unblock():
        committed(delete)


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, "login failed"


def _check_page(page: Page, url: str, viewport: dict, axe_source: str) -> list[str]:
    """Open `url` and return what is wrong with it (nothing, one hopes)."""
    missing: list[str] = []
    page.on(
        "response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state("load")
    if page.locator("[data-compare]").count():
        expect(page.locator("[data-compare][data-ready]")).to_be_attached(timeout=20_000)
    page.wait_for_timeout(300)  # charts and live widgets draw after load
    problems = [f"asked for a missing file: {m}" for m in missing]
    if viewport["width"] <= PHONE["width"]:
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if widths[0] > widths[1]:
            problems.append(f"scrolls sideways: {widths[0]} px wide in {widths[1]} px")
        small = page.evaluate(SMALL_BUTTONS_JS, [BUTTONS, MIN_TARGET_PX])
        problems += [f"button under {MIN_TARGET_PX} px: {b}" for b in small]
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => ({"
        "id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map("
        "n => n.target.join(' '))}))"
    )
    problems += [f"axe {v['id']}: {v['help']} at {json.dumps(v['nodes'])}" for v in violations]
    return [f"{url} at {viewport['width']} px: {p}" for p in problems]


def _tour(browser, viewport: dict, urls: list[str], axe_source: str, log_in=None) -> list[str]:
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        if log_in is not None:
            log_in(page)
        problems = []
        for url in urls:
            fresh = context.new_page()
            problems += _check_page(fresh, url, viewport, axe_source)
            fresh.close()
        return problems
    finally:
        context.close()


VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@VIEWPORTS
def test_public_pages(browser, stack, viewport, axe_source):
    urls = [
        _public(stack, path)
        for path in (
            "/",
            "/accounts/login/",
            "/signup/",
            "/signup/teacher/",
            "/signup/school/",
            "/accounts/password/reset/",
        )
    ] + [stack.url("school-a", "/accounts/login/")]
    problems = _tour(browser, viewport, urls, axe_source)
    assert not problems, "\n".join(problems)


@VIEWPORTS
@pytest.mark.parametrize("role", ["teacher", "student", "admin"])
def test_school_pages(browser, stack, schools, tour, viewport, role, axe_source):
    user = {"teacher": schools.a.teacher, "student": schools.a.student, "admin": schools.a.owner}[
        role
    ]
    urls = [stack.url("school-a", path) for path in tour.pages(role)]
    problems = _tour(
        browser,
        viewport,
        urls,
        axe_source,
        log_in=lambda page: _log_in(page, stack.url("school-a", "/accounts/login/"), user.email),
    )
    assert not problems, "\n".join(problems)


@VIEWPORTS
def test_staff_pages(browser, stack, schools, staff_secret, viewport, axe_source):
    def log_in(page: Page) -> None:
        page.goto(_public(stack, "/accounts/login/"))
        page.fill("input[name=login]", STAFF_EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        # A code that no earlier login of this module used (allauth refuses a code twice).
        step = 0 if viewport is DESKTOP else 1
        page.fill("input[name=code]", totp_code(staff_secret, steps_ahead=step))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert "/accounts/2fa/" not in page.url, page.url

    tenant = schools.a.tenant.public_id
    urls = [_public(stack, p) for p in ("/staff/", f"/staff/tenants/{tenant}/", "/staff/billing/")]
    problems = _tour(browser, viewport, urls, axe_source, log_in=log_in)
    assert not problems, "\n".join(problems)


def test_the_site_links_fold_into_a_menu_on_a_phone(browser, stack, schools):
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        _log_in(page, stack.url("school-a", "/accounts/login/"), schools.a.teacher.email)
        page.goto(stack.url("school-a", "/dashboard/"))
        button = page.locator("[data-menu-button]")
        nav = page.locator("#site-nav")
        inbox = nav.get_by_role("link", name="Inbox")
        expect(button).to_be_visible()
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(button).to_have_attribute("aria-controls", "site-nav")
        expect(inbox).to_be_hidden()
        top = page.evaluate("document.querySelector('main').getBoundingClientRect().top")
        header = page.evaluate("document.querySelector('.topbar').offsetHeight")
        assert header < 70, f"the header takes {header} px"

        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")
        expect(inbox).to_be_visible()
        # The menu opens over the page: nothing below it moves.
        assert page.evaluate("document.querySelector('main').getBoundingClientRect().top") == top
        page.keyboard.press("Escape")
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(inbox).to_be_hidden()
        expect(button).to_be_focused()

        button.click()
        page.mouse.click(PHONE["width"] // 2, PHONE["height"] - 10)  # a tap outside closes it
        expect(button).to_have_attribute("aria-expanded", "false")
        button.click()
        inbox.click()
        page.wait_for_load_state()
        assert page.url.endswith("/teach/inbox/")
        expect(page.locator("[data-menu-button]")).to_have_attribute("aria-expanded", "false")

        # On a desktop the links are in the bar and there is no menu button.
        page.set_viewport_size(DESKTOP)
        expect(page.locator("[data-menu-button]")).to_be_hidden()
        expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    finally:
        context.close()


def test_touch_screens_do_not_show_keyboard_hints(browser, stack, schools, tour):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _log_in(page, stack.url("school-a", "/accounts/login/"), schools.a.teacher.email)
        page.goto(stack.url("school-a", f"/replies/{tour.reply}/"))
        assert page.evaluate("matchMedia('(hover: none) and (pointer: coarse)').matches")
        hints = page.locator(".shortcuts")
        assert hints.count() >= 1
        expect(hints.first).to_be_hidden()
    finally:
        context.close()
    desktop = browser.new_context(viewport=DESKTOP)
    try:
        page = desktop.new_page()
        _log_in(page, stack.url("school-a", "/accounts/login/"), schools.a.teacher.email)
        page.goto(stack.url("school-a", f"/replies/{tour.reply}/"))
        expect(page.locator(".shortcuts").first).to_be_visible()
    finally:
        desktop.close()


def test_dashboard_charts_load_their_library_only_when_near_the_viewport(browser, stack, schools):
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        _log_in(page, stack.url("school-a", "/accounts/login/"), schools.a.teacher.email)
        response = page.goto(stack.url("school-a", "/dashboard/"))
        # The page itself names no chart library: charts.js fetches it when it is needed.
        html = response.text()
        assert "data-chart=" in html and "uPlot.iife" not in html.split("charts.js")[0]
        assert '<script src="/static/vendor/uplot' not in html
        page.locator("[data-chart]").first.scroll_into_view_if_needed()
        expect(page.locator("[data-chart] .uplot").first).to_be_attached(timeout=10_000)
        assert page.evaluate("typeof window.uPlot") == "function"
    finally:
        context.close()
