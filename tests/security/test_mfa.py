"""Two-factor authentication (allauth.mfa): who must have it, and that nothing gets around it.

Required for platform staff on the public site, and for the owners, admins and teachers of a
school whose owner requires it; a session of anyone with an authenticator counts only once
confirmed with it, and the API login asks for a code too.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from tenants.models import ApiToken, AuditEvent, LoginHandover, Membership, Role, Tenant, User
from tests.conftest import (
    PASSWORD,
    client_for,
    enrol_totp,
    mfa_client_for,
    token_client_for,
    totp_code,
)
from tests.support.handover import follow_handover

ENROL = "/accounts/2fa/totp/activate/"
CONFIRM = "/accounts/2fa/reauthenticate/"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="ops@practika.test", password=PASSWORD, is_staff=True)


def _require_mfa(tenant: Tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(mfa_required=True)


def _token_client(user: User, host: str) -> Client:
    return token_client_for(user, host)


def _api_login(host: str, body: dict):
    return Client(HTTP_HOST=host).post(
        "/api/v1/auth/login/", json.dumps(body), content_type="application/json"
    )


def _recovery_codes(user: User) -> list[str]:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()


def _with_recovery_codes(user: User) -> list[str]:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    RecoveryCodes.activate(user)
    return _recovery_codes(user)


# --- Platform staff on the public site -----------------------------------------------------

STAFF_PAGES = [
    "/", "/staff/", "/staff/billing/", "/django-admin/", "/django-admin/tenants/tenant/",
    "/after-login/", "/signup/", "/accounts/email/",
]


def test_staff_without_mfa_are_sent_to_enrolment_from_every_page(schools, public_host, staff):
    client = client_for(staff, public_host)
    tenant = schools.a.tenant
    for path in [*STAFF_PAGES, f"/staff/tenants/{tenant.public_id}/", f"/go/{tenant.slug}/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == ENROL, path
    # A write is refused the same way, and nothing happens behind the refusal.
    suspend = client.post(f"/staff/tenants/{tenant.public_id}/suspend/", {"reason": "x"})
    assert suspend.status_code == 302 and suspend["Location"] == ENROL
    assert not Tenant.objects.get(pk=tenant.pk).is_suspended
    assert not LoginHandover.objects.filter(user=staff).exists()


def test_staff_can_open_the_enrolment_pages_and_log_out(public_host, staff):
    client = client_for(staff, public_host)
    # Setting up asks for the password again first (no recent login in this session).
    enrol = client.get(ENROL)
    assert enrol.status_code == 302 and enrol["Location"].startswith("/accounts/reauthenticate/")
    assert client.get(enrol["Location"]).status_code == 200
    assert client.post(enrol["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="authenticator_secret"' in html and "Practika" in html  # our layout
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/staff/")["Location"].startswith("/accounts/login/")


def test_staff_api_requests_without_mfa_are_refused_in_the_error_format(public_host, staff):
    for client in (client_for(staff, public_host), _token_client(staff, public_host)):
        response = client.get("/api/v1/me/tenants/")
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_required"
        assert response.json()["message"]


def test_staff_with_a_confirmed_session_reach_the_staff_area_and_django_admin(public_host, staff):
    client = mfa_client_for(staff, public_host)
    assert client.get("/staff/").status_code == 200
    assert client.get("/django-admin/").status_code == 200
    assert _token_client(staff, public_host).get("/api/v1/me/tenants/").status_code == 200


def test_the_django_admin_login_form_does_not_skip_the_code(public_host, staff):
    secret = enrol_totp(staff)
    client = Client(HTTP_HOST=public_host)
    login = client.post(
        "/django-admin/login/?next=/django-admin/",
        {"username": staff.email, "password": PASSWORD, "next": "/django-admin/"},
    )
    # Django's own form is not used: the password posted there logs nobody in...
    assert login.status_code == 302
    assert login["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    # ...and our login asks for the code before the admin opens.
    step = client.post(
        "/accounts/login/?next=/django-admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert step["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/django-admin/").status_code == 302
    confirmed = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/django-admin/"
    assert client.get("/django-admin/").status_code == 200


# --- Logging in: the code step, the handover, recovery codes -------------------------------


def _password_login(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_login_asks_for_the_code_and_the_handover_carries_the_confirmation(schools, public_host):
    school = schools.a
    teacher = school.teacher
    secret = enrol_totp(teacher)
    _require_mfa(school.tenant)
    client = Client(HTTP_HOST=public_host)

    step = _password_login(client, teacher.email)
    assert step["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/after-login/")["Location"].startswith("/accounts/login/")  # not yet in
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done["Location"] == "/after-login/"

    handover = client.get("/after-login/")["Location"]
    assert urlsplit(handover).hostname == school.host
    tenant_client, landed = follow_handover(handover, public=client)
    assert landed.status_code == 302 and landed["Location"] == "/"
    # The school requires MFA of teachers: the handed-over session counts as confirmed.
    home = tenant_client.get("/")
    assert home.status_code == 200
    assert home.context["membership"].user == teacher


def test_a_recovery_code_logs_in_once(schools, public_host):
    teacher = schools.a.teacher
    enrol_totp(teacher)
    code = _with_recovery_codes(teacher)[0]

    first = Client(HTTP_HOST=public_host)
    _password_login(first, teacher.email)
    assert first.post("/accounts/2fa/authenticate/", {"code": code})["Location"] == "/after-login/"
    assert code not in _recovery_codes(teacher)

    again = Client(HTTP_HOST=public_host)
    _password_login(again, teacher.email)
    refused = again.post("/accounts/2fa/authenticate/", {"code": code})
    assert refused.status_code == 200 and "Incorrect code" in refused.content.decode()


def test_the_code_step_works_on_a_tenant_host_too(schools, db):
    school = schools.a
    secret = enrol_totp(school.teacher)
    client = Client(HTTP_HOST=school.host)
    step = _password_login(client, school.teacher.email)
    assert step["Location"] == "/accounts/2fa/authenticate/"
    page = client.get("/accounts/2fa/authenticate/")
    assert page.status_code == 200 and "School A" in page.content.decode()
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done["Location"] == "/"
    assert client.get("/").status_code == 200


def test_failed_codes_are_counted_together_on_every_host(schools, public_host):
    user = schools.a.teacher
    secret = enrol_totp(user)
    Membership.objects.create(user=user, tenant=schools.b.tenant, role=Role.STUDENT)
    hosts = [public_host, schools.a.host, schools.b.host]
    clients = []
    for host in hosts:
        client = Client(HTTP_HOST=host)
        _password_login(client, user.email)
        clients.append(client)
    for attempt in range(5):
        clients[attempt % 3].post("/accounts/2fa/authenticate/", {"code": f"{attempt:06d}"})
    # The sixth try on a third host is refused, even with the right code.
    refused = clients[2].post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert refused.status_code == 200
    assert "Too many failed" in refused.content.decode()


def test_an_unconfirmed_session_cannot_mint_a_handover(schools, public_host):
    # A session that skipped the code step (force_login stands for the Django admin's form).
    teacher = schools.a.teacher
    enrol_totp(teacher)
    client = client_for(teacher, public_host)
    response = client.get("/after-login/")
    assert response.status_code == 302
    assert response["Location"].startswith(CONFIRM)
    assert client.get(f"/go/{schools.a.tenant.slug}/")["Location"].startswith(CONFIRM)
    assert not LoginHandover.objects.filter(user=teacher).exists()


# --- A school that requires MFA -------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "teacher"])
def test_a_school_that_requires_mfa_sends_its_staff_to_enrolment_first(school_a, role):
    _require_mfa(school_a.tenant)
    client = client_for(getattr(school_a, role), school_a.host)
    for path in ["/", "/manage/settings/", "/teach/exercises/new/", "/accounts/email/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == ENROL, path
    api = _token_client(getattr(school_a, role), school_a.host).get("/api/v1/tenant/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"


def test_an_admin_of_a_school_that_requires_mfa_is_sent_to_enrolment(school_a):
    admin = User.objects.create_user(email="admin@school-a.example.com", password=PASSWORD)
    Membership.objects.create(user=admin, tenant=school_a.tenant, role=Role.ADMIN)
    _require_mfa(school_a.tenant)
    assert client_for(admin, school_a.host).get("/")["Location"] == ENROL


def test_students_of_a_school_that_requires_mfa_are_not_forced(school_a):
    _require_mfa(school_a.tenant)
    assert client_for(school_a.student, school_a.host).get("/").status_code == 200
    api = _token_client(school_a.student, school_a.host).get("/api/v1/tenant/")
    assert api.status_code == 200


def test_a_school_that_does_not_require_mfa_lets_its_teachers_in(schools, db):
    _require_mfa(schools.b.tenant)
    assert client_for(schools.a.teacher, schools.a.host).get("/").status_code == 200


# --- The API login ---------------------------------------------------------------------------


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_api_login_of_an_mfa_user_needs_a_code(on, school_a, public_host):
    host = public_host if on == "public" else school_a.host
    teacher = school_a.teacher
    secret = enrol_totp(teacher)
    credentials = {"email": teacher.email, "password": PASSWORD}
    tokens_before = set(ApiToken.objects.filter(user=teacher).values_list("pk", flat=True))

    missing = _api_login(host, credentials)
    assert missing.status_code == 400
    assert missing.json()["code"] == "mfa_required" and "key" not in missing.json()
    wrong = _api_login(host, {**credentials, "code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "mfa_code_invalid"
    assert set(ApiToken.objects.filter(user=teacher).values_list("pk", flat=True)) == (
        tokens_before
    )  # no token was issued

    code = totp_code(secret)
    ok = _api_login(host, {**credentials, "code": code})
    assert ok.status_code == 200
    me = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {ok.json()['key']}")
    assert me.get("/api/v1/auth/user/").json()["email"] == teacher.email
    # The same code does not work twice.
    ApiToken.objects.filter(user=teacher).delete()
    replay = _api_login(host, {**credentials, "code": code})
    assert replay.status_code == 400 and replay.json()["code"] == "mfa_code_invalid"


def test_api_login_takes_a_recovery_code_once(school_a, public_host):
    teacher = school_a.teacher
    enrol_totp(teacher)
    code = _with_recovery_codes(teacher)[0]
    credentials = {"email": teacher.email, "password": PASSWORD, "code": code}
    assert _api_login(public_host, credentials).status_code == 200
    ApiToken.objects.filter(user=teacher).delete()
    assert _api_login(public_host, credentials).json()["code"] == "mfa_code_invalid"


def test_api_login_without_mfa_is_unchanged(school_a, public_host):
    response = _api_login(
        public_host, {"email": school_a.student.email, "password": PASSWORD}
    )
    assert response.status_code == 200 and response.json()["key"]


# --- The tenant setting ----------------------------------------------------------------------


def test_an_owner_requires_mfa_in_the_portal(school_a):
    owner = school_a.owner
    client = mfa_client_for(owner, school_a.host)
    page = client.get("/manage/settings/")
    assert 'name="mfa_required"' in page.content.decode()

    response = client.post("/manage/settings/mfa/", {"mfa_required": "on"})
    assert response.status_code == 302 and response["Location"] == "/manage/settings/"
    assert Tenant.objects.get(pk=school_a.tenant.pk).mfa_required
    event = AuditEvent.objects.filter(tenant=school_a.tenant).first()
    assert event.action == "tenant.mfa_required_changed" and event.actor == owner
    assert event.data == {"required": True}
    # The owner stays in (confirmed session); a teacher without MFA is now sent to enrol.
    assert client.get("/manage/settings/").status_code == 200
    assert client_for(school_a.teacher, school_a.host).get("/")["Location"] == ENROL

    client.post("/manage/settings/mfa/", {})
    assert not Tenant.objects.get(pk=school_a.tenant.pk).mfa_required


def test_an_owner_without_mfa_cannot_require_it_yet(school_a):
    client = client_for(school_a.owner, school_a.host)
    page = client.post("/manage/settings/mfa/", {"mfa_required": "on"}, follow=True)
    assert "Set up two-factor authentication for your own account first" in (
        page.content.decode()
    )
    assert not Tenant.objects.get(pk=school_a.tenant.pk).mfa_required


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEACHER, Role.STUDENT])
def test_only_an_owner_can_change_the_setting(school_a, role):
    user = User.objects.create_user(email=f"{role}-x@school-a.example.com", password=PASSWORD)
    Membership.objects.create(user=user, tenant=school_a.tenant, role=role)
    client = mfa_client_for(user, school_a.host)
    if role == Role.ADMIN:
        response = client.get("/manage/settings/")
        assert response.status_code == 200
        page = response.content.decode()
        assert 'name="mfa_required"' not in page and "Only an owner can change this" in page
    response = client.post("/manage/settings/mfa/", {"mfa_required": "on"})
    assert response.status_code == 403
    assert not Tenant.objects.get(pk=school_a.tenant.pk).mfa_required
    assert not AuditEvent.objects.filter(action="tenant.mfa_required_changed").exists()
