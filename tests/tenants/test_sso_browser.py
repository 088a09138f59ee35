"""Single sign-on in a real browser (Debian's chromium through Playwright) against a real
OpenID Connect provider (tests/support/oidc_provider: django-oauth-toolkit in a process of its
own, its RSA key made for the run) and the live stack (tests/support/e2e_server.py).

School A has its own provider and lets verified addresses at school-a.example.com join as
students. A new person signs in on the public site by the school's slug and lands in School A
through the login handover; someone from another domain is refused with a message; a teacher
with an authenticator app, in a school that requires two-factor authentication, signs in with
the provider and is still asked for a code before the handover.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from tenants.models import LoginHandover, Membership, Role, SchoolSignOn, Tenant, User
from tenants.sso import services as sso_services
from tests.conftest import PASSWORD, enrol_totp, totp_code
from tests.support import e2e_server
from tests.support.browser import committed
from tests.support.oidc_provider import ProviderUser, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NEW_EMAIL = "new-pupil@school-a.example.com"
OUTSIDER_EMAIL = "someone@other.example.org"
IDP_PASSWORD = "idp-password-for-tests"
CODE_STEP = "/accounts/2fa/authenticate/"


def _public(stack, path: str) -> str:
    return f"http://{e2e_server.BASE_DOMAIN}:{stack.port}{path}"


def _host(page: Page) -> str:
    return urlsplit(page.url).hostname or ""


def _path(page: Page) -> str:
    return urlsplit(page.url).path


@pytest.fixture(scope="module")
def idp(stack, schools, tmp_path_factory):
    callback = _public(stack, "/accounts/oidc/school-school-a/login/callback/")
    users = [
        ProviderUser(NEW_EMAIL, IDP_PASSWORD, verified=True, name="New Pupil"),
        ProviderUser(OUTSIDER_EMAIL, IDP_PASSWORD, verified=True),
        ProviderUser(schools.a.teacher.email, IDP_PASSWORD, verified=True),
    ]
    with running_provider(
        data=tmp_path_factory.mktemp("idp"), users=users, redirect_uris=[callback]
    ) as provider:
        yield provider


@pytest.fixture(scope="module")
def school_a_sso(idp, schools, django_db_blocker):
    tenant, owner = schools.a.tenant, schools.a.owner

    def set_up() -> None:
        sso_services.sign_on_update(
            tenant=tenant,
            actor=owner,
            email_domains=["school-a.example.com"],
            auto_join=True,
            auto_join_role=Role.STUDENT,
        )
        sso_services.school_server_set(
            tenant=tenant,
            actor=owner,
            issuer=idp.issuer,
            client_id=idp.client_id,
            secret=idp.secret,
        )

    def tear_down() -> None:
        sso_services.school_server_remove(tenant=tenant, actor=owner)
        SchoolSignOn.objects.filter(tenant=tenant).delete()

    with django_db_blocker.unblock():
        committed(set_up)
    yield schools.a
    with django_db_blocker.unblock():
        committed(tear_down)


def _delete_user(tenant, email: str) -> None:
    # Tenant tables point at users: collect them where they exist (School A's schema).
    with tenant_context(tenant):
        User.objects.filter(email=email).delete()


def _sign_in_at_provider(page: Page, email: str) -> None:
    """allauth's confirmation page, then the provider's own login page."""
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert _host(page) == "127.0.0.1", page.url  # the provider's own host
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", IDP_PASSWORD)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.wait_for_load_state()


def test_a_new_person_signs_in_by_the_schools_slug_and_lands_in_the_school(
    browser, stack, school_a_sso
):
    school = school_a_sso
    committed(_delete_user, school.tenant, NEW_EMAIL)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_public(stack, "/accounts/login/"))
        page.fill("input[name=school]", "school-a")
        page.get_by_role("button", name="Continue with my school").click()
        page.wait_for_load_state()
        assert _path(page) == "/accounts/oidc/school-school-a/login/", page.url
        _sign_in_at_provider(page, NEW_EMAIL)
        # Back on Practika, then through the handover to School A's own host.
        assert _host(page) == f"school-a.{e2e_server.BASE_DOMAIN}", page.url
        assert _path(page) == "/", page.url
        expect(page.locator("body")).to_contain_text("School A")
    finally:
        context.close()
    user = User.objects.get(email=NEW_EMAIL)
    assert user.full_name == "New Pupil"
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, tenant=school.tenant).role == Role.STUDENT
    assert SocialAccount.objects.filter(user=user, provider="school-school-a").count() == 1
    committed(_delete_user, school.tenant, NEW_EMAIL)


def test_a_domain_restricted_school_refuses_another_domain(browser, stack, school_a_sso):
    committed(_delete_user, school_a_sso.tenant, OUTSIDER_EMAIL)  # left by an interrupted run
    context = browser.new_context()
    page = context.new_page()
    try:
        # From School A's own login page this time: its button leads to the public site.
        page.goto(stack.url("school-a", "/accounts/login/"))
        page.get_by_role("link", name="Continue with School A sign-in").click()
        page.wait_for_load_state()
        assert _host(page) == e2e_server.BASE_DOMAIN, page.url
        _sign_in_at_provider(page, OUTSIDER_EMAIL)
        assert _host(page) == e2e_server.BASE_DOMAIN, page.url
        expect(page.get_by_role("heading", name="We couldn't sign you in")).to_be_visible()
        expect(page.locator(".sso-message")).to_have_text(
            "School A signs in only addresses ending in @school-a.example.com. You signed in "
            f"as {OUTSIDER_EMAIL}: sign out of your provider and use your school account."
        )
        page.goto(_public(stack, "/after-login/"))
        assert _path(page) == "/accounts/login/", page.url  # not logged in
    finally:
        context.close()
    assert not User.objects.filter(email=OUTSIDER_EMAIL).exists()


def _set_mfa_required(tenant, required: bool) -> None:
    tenant = Tenant.objects.get(pk=tenant.pk)
    tenant.mfa_required = required
    tenant.save(update_fields=["mfa_required"])


@pytest.fixture
def teacher_with_mfa(school_a_sso, stack):
    school = school_a_sso
    teacher = school.teacher
    committed(_set_mfa_required, school.tenant, True)
    stack.forget_cached()
    secret = committed(lambda: enrol_totp(User.objects.get(pk=teacher.pk)))
    yield school, secret

    def tear_down() -> None:
        _set_mfa_required(school.tenant, False)
        Authenticator.objects.filter(user=teacher).delete()
        SocialAccount.objects.filter(user=teacher).delete()
        EmailAddress.objects.filter(user=teacher).delete()
        LoginHandover.objects.filter(user=teacher).delete()
        # Linking an address the account never verified wipes its password (allauth), which
        # the other tests' shared teacher needs back.
        user = User.objects.get(pk=teacher.pk)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])

    committed(tear_down)
    stack.forget_cached()


def test_sso_in_a_school_that_requires_mfa_still_asks_for_the_code(
    browser, stack, teacher_with_mfa
):
    school, secret = teacher_with_mfa
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_public(stack, "/sso/school-a/"))
        _sign_in_at_provider(page, school.teacher.email)
        # The provider's word is not our second factor: allauth's code step, on the public site.
        assert _host(page) == e2e_server.BASE_DOMAIN and _path(page) == CODE_STEP, page.url
        page.fill("input[name=code]", "000000")
        page.get_by_role("button", name="Sign In").click()
        expect(page.locator("main")).to_contain_text("Incorrect code")
        page.fill("input[name=code]", totp_code(secret, steps_ahead=1))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
        assert _host(page) == f"school-a.{e2e_server.BASE_DOMAIN}", page.url
        assert _path(page) == "/", page.url
        # A teacher's page opens: no enrolment, no second code on the school's host.
        page.goto(stack.url("school-a", "/teach/exercises/new/"))
        assert _path(page) == "/teach/exercises/new/", page.url
    finally:
        context.close()
    # The existing account was linked (a verified address, a member, the school's domain).
    account = SocialAccount.objects.get(provider="school-school-a", user=school.teacher)
    assert account.extra_data
