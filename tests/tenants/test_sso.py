"""Single sign-on's rules, through the whole OpenID Connect flow without a browser: the test
client plays Practika's side, `requests` plays the person at the real provider
(tests/support/oidc_provider, django-oauth-toolkit in its own process), and allauth exchanges
the code, checks the ID token's signature and calls our adapter (tenants.adapters).

Also: the admin portal's sign-in page (owners and admins only, the secret never shown back),
the issuer checks, and the public site's `/sso/...` routes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.test import Client

from tenants.errors import DomainError
from tenants.models import Membership, Role, SchoolSignOn, Tenant, User
from tenants.sso import policy
from tenants.sso import services as sso_services
from tests.conftest import PASSWORD, client_for
from tests.support.handover import follow_handover
from tests.support.oidc_provider import ProviderUser, running_provider

IDP_PASSWORD = "idp-password-for-tests"
JOINER = "joiner@school-a.example.com"
OUTSIDER = "someone@other.example.org"
ALUMNUS = "alumnus@school-a.example.com"  # an account at the school's domain, not a member
SECRET = "practika-test-secret"


@pytest.fixture(scope="module")
def idp(schools, tmp_path_factory):
    callback = "http://practika.test/accounts/oidc/school-school-a/login/callback/"
    users = [
        ProviderUser(JOINER, IDP_PASSWORD, verified=True, name="Jo Iner"),
        ProviderUser(OUTSIDER, IDP_PASSWORD, verified=True),
        ProviderUser(ALUMNUS, IDP_PASSWORD, verified=True),
        # A member's address that the provider does not vouch for.
        ProviderUser(schools.a.student.email, IDP_PASSWORD, verified=False),
        ProviderUser(schools.a.other_student.email, IDP_PASSWORD, verified=True),
    ]
    with running_provider(
        data=tmp_path_factory.mktemp("idp"), users=users, redirect_uris=[callback], secret=SECRET
    ) as provider:
        yield provider


@pytest.fixture
def school_sso(idp, school_a, fresh_rate_limits):
    sso_services.sign_on_update(
        tenant=school_a.tenant,
        actor=school_a.owner,
        email_domains=["school-a.example.com"],
        auto_join=True,
    )
    sso_services.school_server_set(
        tenant=school_a.tenant,
        actor=school_a.owner,
        issuer=idp.issuer,
        client_id=idp.client_id,
        secret=idp.secret,
    )
    return school_a


def _sign_in(email: str, *, start: str = "/sso/school-a/") -> tuple[Client, object]:
    """Start on the public site, sign in at the provider as `email`, come back: the client and
    the response of Practika's callback."""
    client = Client(HTTP_HOST="practika.test")
    confirm = client.get(start)
    assert confirm.status_code == 302, confirm
    to_idp = client.post(confirm["Location"])
    assert to_idp.status_code == 302 and to_idp["Location"].startswith("http://127.0.0.1:"), to_idp
    person = requests.Session()
    at_idp = person.get(to_idp["Location"], allow_redirects=False, timeout=10)
    login_url = requests.compat.urljoin(to_idp["Location"], at_idp.headers["Location"])
    page = person.get(login_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    logged_in = person.post(
        login_url,
        data={
            "csrfmiddlewaretoken": token,
            "username": email,
            "password": IDP_PASSWORD,
            "next": re.search(r'name="next" value="([^"]*)"', page.text)
            .group(1)
            .replace("&amp;", "&"),
        },
        allow_redirects=False,
        timeout=10,
    )
    authorize = requests.compat.urljoin(login_url, logged_in.headers["Location"])
    back = person.get(authorize, allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    assert callback.hostname == "practika.test", back.headers["Location"]
    return client, client.get(f"{callback.path}?{callback.query}")


def _message(response) -> str:
    return response.content.decode()


# --- Joining, linking, refusing ------------------------------------------------------------


def test_a_verified_address_in_the_schools_domain_joins_with_the_chosen_role(school_sso):
    SchoolSignOn.objects.filter(tenant=school_sso.tenant).update(auto_join_role=Role.TEACHER)
    client, response = _sign_in(JOINER)
    assert response.status_code == 302 and response["Location"] == "/go/school-a/", response
    user = User.objects.get(email=JOINER)
    assert Membership.objects.get(user=user, tenant=school_sso.tenant).role == Role.TEACHER
    assert not user.has_usable_password()
    # On to the login handover to School A's host.
    enter = client.get("/go/school-a/")
    assert enter["Location"].startswith("http://school-a.practika.test/auth/handover/?t=")


def test_without_joining_by_oneself_a_new_address_is_refused(school_sso):
    SchoolSignOn.objects.filter(tenant=school_sso.tenant).update(auto_join=False)
    _, response = _sign_in(JOINER)
    assert response.status_code == 403
    assert "No Practika account uses this address yet" in _message(response)
    assert not User.objects.filter(email=JOINER).exists()


def test_another_domain_is_refused_with_a_clear_message(school_sso):
    _, response = _sign_in(OUTSIDER)
    assert response.status_code == 403
    assert "School A signs in only addresses ending in @school-a.example.com" in _message(response)
    assert not User.objects.filter(email=OUTSIDER).exists()
    assert not SocialAccount.objects.exists()


def test_an_unverified_address_never_takes_over_the_account(school_sso):
    student = school_sso.student
    # The school's domains accept verified addresses only.
    _, response = _sign_in(student.email)
    assert response.status_code == 403
    assert "did not confirm your email address" in _message(response)
    # Without domains, the address is not linked to the account that has it either.
    SchoolSignOn.objects.filter(tenant=school_sso.tenant).update(email_domains=[], auto_join=False)
    _, response = _sign_in(student.email)
    assert response.status_code == 403
    assert f"An account with {student.email} already exists" in _message(response)
    assert not SocialAccount.objects.filter(user=student).exists()
    assert User.objects.get(pk=student.pk).check_password(PASSWORD)


def test_a_verified_address_of_a_member_links_to_that_account(school_sso):
    member = school_sso.other_student
    client, response = _sign_in(member.email)
    assert response.status_code == 302 and response["Location"] == "/go/school-a/", response
    assert int(client.session["_auth_user_id"]) == member.pk
    assert SocialAccount.objects.get(provider="school-school-a").user_id == member.pk
    # Signing in again uses the link.
    _, again = _sign_in(member.email)
    assert again.status_code == 302
    assert SocialAccount.objects.filter(user=member).count() == 1


def test_a_schools_own_server_cannot_link_an_account_that_is_not_its_member(school_sso):
    alumnus = User.objects.create_user(email=ALUMNUS, password=PASSWORD)
    _, response = _sign_in(ALUMNUS)
    assert response.status_code == 403
    assert f"An account with {ALUMNUS} already exists" in _message(response)
    assert not SocialAccount.objects.filter(user=alumnus).exists()
    assert not Membership.objects.filter(user=alumnus).exists()


def test_the_rules_for_platform_providers():
    # Google or Microsoft started for a school: the school's domains apply, and linking a
    # verified address needs no membership (the platform's provider, not the school's).
    dest = policy.Destination(tenant=None, sign_on=None, by_school_server=False)  # type: ignore[arg-type]
    assert policy.may_link(dest=dest, provider_id="google", user=User(), email="a@b.org")
    assert policy.may_link(dest=None, provider_id="google", user=User(), email="a@b.org")
    assert not policy.may_link(dest=None, provider_id="school-x", user=User(), email="a@b.org")
    assert policy.join_role(dest=None, accepted_email="a@b.org") is None


def test_a_platform_login_started_for_a_school_is_headed_there(school_a):
    SchoolSignOn.objects.create(
        tenant=school_a.tenant, email_domains=["school-a.example.com"], auto_join=True
    )
    dest = policy.destination(provider_id="google", next_url="/go/school-a/")
    assert dest is not None and dest.tenant == school_a.tenant and not dest.by_school_server
    assert policy.destination(provider_id="google", next_url="/after-login/") is None
    assert policy.destination(provider_id="google", next_url="//evil/go/school-a/") is None
    with pytest.raises(policy.Refusal, match="signs in only addresses ending in"):
        policy.check_domain(dest=dest, verified_emails=["x@gmail.com"])
    with pytest.raises(policy.Refusal, match="did not confirm your email"):
        policy.check_domain(dest=dest, verified_emails=[])
    accepted = policy.check_domain(dest=dest, verified_emails=["x@School-A.example.com".lower()])
    assert policy.join_role(dest=dest, accepted_email=accepted) == Role.STUDENT


# --- The admin portal's sign-in page -------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "student"])
def test_teachers_and_students_cannot_open_the_sign_in_page(school_a, who):
    client = client_for(getattr(school_a, who), school_a.host)
    assert client.get("/manage/sign-in/").status_code == 403
    response = client.post(
        "/manage/sign-in/",
        {
            "action": "server",
            "server-issuer": "https://login.example.edu",
            "server-client_id": "x",
            "server-secret": "y",
        },
    )
    assert response.status_code == 403
    assert not SchoolSignOn.objects.filter(tenant=school_a.tenant).exists()


def test_the_sign_in_page_is_for_a_schools_host_and_its_members(school_a, schools):
    assert Client(HTTP_HOST=school_a.host).get("/manage/sign-in/").status_code == 302
    assert client_for(school_a.owner, "practika.test").get("/manage/sign-in/").status_code == 404
    # School B's owner is no member of School A.
    assert client_for(schools.b.owner, school_a.host).get("/manage/sign-in/").status_code == 403


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owners_and_admins_set_the_rules_and_the_server_and_never_see_the_secret(
    school_a, settings, who
):
    user = school_a.owner
    if who == "admin":
        user = school_a.teacher
        Membership.objects.filter(user=user, tenant=school_a.tenant).update(role=Role.ADMIN)
    client = client_for(user, school_a.host)
    page = client.get("/manage/sign-in/")
    assert page.status_code == 200
    assert "http://practika.test/accounts/oidc/school-school-a/login/callback/" in _message(page)
    saved = client.post(
        "/manage/sign-in/",
        {
            "action": "rules",
            "rules-email_domains": "@School-A.example.com, pupils.example.com",
            "rules-auto_join": "on",
            "rules-auto_join_role": "student",
        },
    )
    assert saved.status_code == 302
    sign_on = SchoolSignOn.objects.get(tenant=school_a.tenant)
    assert sign_on.email_domains == ["school-a.example.com", "pupils.example.com"]
    assert sign_on.auto_join and sign_on.auto_join_role == Role.STUDENT
    secret = "s3cret-never-shown-back"
    saved = client.post(
        "/manage/sign-in/",
        {
            "action": "server",
            "server-issuer": "http://127.0.0.1:9451/o",
            "server-client_id": "client-1",
            "server-secret": secret,
        },
    )
    assert saved.status_code == 302, _message(saved)
    app = SocialApp.objects.get(provider_id="school-school-a")
    assert (app.client_id, app.secret) == ("client-1", secret)
    assert app.settings == {"server_url": "http://127.0.0.1:9451/o", "oauth_pkce_enabled": True}
    page = client.get("/manage/sign-in/")
    assert secret not in _message(page) and "client-1" in _message(page)
    # An empty secret keeps the stored one.
    client.post(
        "/manage/sign-in/",
        {
            "action": "server",
            "server-issuer": "http://127.0.0.1:9451/o",
            "server-client_id": "client-2",
            "server-secret": "",
        },
    )
    app.refresh_from_db()
    assert (app.client_id, app.secret) == ("client-2", secret)
    client.post("/manage/sign-in/", {"action": "remove_server"})
    assert not SocialApp.objects.filter(provider_id="school-school-a").exists()


def test_joining_by_oneself_never_makes_an_admin_and_needs_domains(school_a):
    client = client_for(school_a.owner, school_a.host)
    response = client.post(
        "/manage/sign-in/",
        {
            "action": "rules",
            "rules-email_domains": "school-a.example.com",
            "rules-auto_join": "on",
            "rules-auto_join_role": "admin",
        },
    )
    assert response.status_code == 400
    response = client.post(
        "/manage/sign-in/",
        {
            "action": "rules",
            "rules-email_domains": "",
            "rules-auto_join": "on",
            "rules-auto_join_role": "student",
        },
    )
    assert response.status_code == 400
    assert "Add your school&#x27;s email domains" in _message(response)
    with pytest.raises(DomainError):
        sso_services.sign_on_update(
            tenant=school_a.tenant,
            actor=school_a.owner,
            email_domains=["a.org"],
            auto_join=True,
            auto_join_role=Role.OWNER,
        )
    assert not SchoolSignOn.objects.filter(tenant=school_a.tenant, auto_join=True).exists()


def test_an_issuer_must_be_https_and_public(school_a, settings):
    settings.PRACTIKA_SSO_ALLOW_PRIVATE_ISSUERS = False
    for issuer, code in [
        ("http://login.example.edu", "sso_issuer_invalid"),
        ("https://127.0.0.1/o", "sso_issuer_invalid"),
        ("https://169.254.169.254/latest", "sso_issuer_invalid"),
        ("https://user@login.example.edu", "sso_issuer_invalid"),
    ]:
        with pytest.raises(DomainError) as error:
            sso_services.school_server_set(
                tenant=school_a.tenant,
                actor=school_a.owner,
                issuer=issuer,
                client_id="c",
                secret="s",
            )
        assert error.value.code == code, issuer
    assert not SocialApp.objects.exists()


def test_the_public_sso_routes_refuse_what_is_not_set_up(school_a):
    client = Client(HTTP_HOST="practika.test")
    assert client.get("/sso/no-such-school/").status_code == 404
    not_yet = client.get("/sso/school-a/")  # no server of its own yet
    assert not_yet.status_code == 404
    assert "Log in with your email and password." in not_yet.content.decode()
    assert client.get("/sso/school-a/google/").status_code == 404  # not configured here
    assert client.get("/sso/school-a/facebook/").status_code == 404
    found = client.get("/sso/", {"school": "School-A.practika.test"})
    assert found["Location"] == "/sso/school-a/"
    for bad in ["", "a/b", "../x", "x" * 41, "ü"]:
        assert client.get("/sso/", {"school": bad}).status_code == 404, bad
    # Tenants' hosts do not route them, and allauth's own routes there are members-only.
    assert Client(HTTP_HOST=school_a.host).get("/sso/school-a/").status_code == 404


def test_a_teacher_who_joined_by_sso_is_sent_to_enrolment_and_can_enrol(school_sso):
    # No password to confirm: allauth asks an account with only a social login for none.
    SchoolSignOn.objects.filter(tenant=school_sso.tenant).update(auto_join_role=Role.TEACHER)
    Tenant.objects.filter(pk=school_sso.tenant.pk).update(mfa_required=True)
    public, response = _sign_in(JOINER)
    assert response["Location"] == "/go/school-a/"
    tenant, done = follow_handover(public.get("/go/school-a/")["Location"], public=public)
    assert done.status_code == 302 and done["Location"] == "/", done
    home = tenant.get("/")
    assert home.status_code == 302 and home["Location"] == "/accounts/2fa/totp/activate/"
    enrolment = tenant.get("/accounts/2fa/totp/activate/")
    assert enrolment.status_code == 200, enrolment
    assert b"authenticator_secret" in enrolment.content


def test_platform_providers_appear_once_configured_and_start_for_the_school(school_a, settings):
    login_page = Client(HTTP_HOST=school_a.host).get("/accounts/login/")
    assert "Continue with Google" not in _message(login_page)
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "google": {"APPS": [{"client_id": "google-client", "secret": "google-secret"}]},
    }
    # A school's host offers Google through the public site, for that school.
    login_page = Client(HTTP_HOST=school_a.host).get("/accounts/login/")
    assert 'href="http://practika.test/sso/school-a/google/"' in _message(login_page)
    start = Client(HTTP_HOST="practika.test").get("/sso/school-a/google/")
    assert start["Location"] == "/accounts/google/login/?process=login&next=%2Fgo%2Fschool-a%2F"
    # The public login page offers it straight, and never a school's own server.
    sso_services.school_server_set(
        tenant=school_a.tenant,
        actor=school_a.owner,
        issuer="http://127.0.0.1:9451/o",
        client_id="c",
        secret="s",
    )
    public_page = _message(Client(HTTP_HOST="practika.test").get("/accounts/login/"))
    assert 'href="/accounts/google/login/?process=login"' in public_page
    assert "school-school-a" not in public_page
    # Nor does the page where a signed-in person connects providers (allauth's list).
    connections = client_for(school_a.student, "practika.test").get("/accounts/3rdparty/")
    assert connections.status_code == 200
    assert "/accounts/google/login/" in _message(connections)
    assert "school-school-a" not in _message(connections)


class FullSchool:
    """A membership policy (the PRACTIKA_MEMBERSHIP_POLICY seam billing fills) that is full."""

    @staticmethod
    def check_join(*, tenant, user, role):
        raise DomainError(f"{tenant.name} has no free places left.", code="limit_reached")

    @staticmethod
    def changed(*, tenant):
        raise AssertionError("nobody joined")


def test_a_full_school_refuses_the_join_and_keeps_no_account(school_sso, settings):
    settings.PRACTIKA_MEMBERSHIP_POLICY = f"{__name__}.FullSchool"
    _, response = _sign_in(JOINER)
    assert response.status_code == 403
    assert "School A has no free places left." in _message(response)
    assert not User.objects.filter(email=JOINER).exists()
    assert not SocialAccount.objects.exists()


def test_microsoft_addresses_count_as_verified_only_for_one_entra_tenant():
    """Any organisation's directory can give a user any `mail`: a domain list with the
    multi-tenant app would let a stranger's directory sign in as a school's people."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def settings_with(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "import config.settings.base"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": f"{root / 'platform'}{os.pathsep}{root}", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    domains = {"PRACTIKA_SSO_MICROSOFT_VERIFIED_DOMAINS": "school.example.edu"}
    refused = settings_with(**domains)
    assert refused.returncode != 0
    assert "needs PRACTIKA_SSO_MICROSOFT_TENANT set to the one Entra ID tenant" in refused.stderr
    for tenant in ("common", "consumers"):
        assert settings_with(**domains, PRACTIKA_SSO_MICROSOFT_TENANT=tenant).returncode != 0
    one_tenant = settings_with(
        **domains, PRACTIKA_SSO_MICROSOFT_TENANT="3f1c2e0a-5b7d-4c7e-9a61-0d2f7c1e9b42"
    )
    assert one_tenant.returncode == 0, one_tenant.stderr
