"""Staff impersonation (django-hijack, tenants.impersonation): only platform staff, only with a
written reason, never as staff or superusers, never where the school switched support access
off; a banner on every page, a time limit, and its start and end in the school's audit log."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tenants import tasks
from tenants.models import AuditEvent, Impersonation, Membership, Role, User
from tests.conftest import PASSWORD, client_for, mfa_client_for
from tests.support.handover import follow_handover

REASON = "Ticket 4821: the student cannot see the exercise their teacher assigned."


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="support@practika.example", password=PASSWORD, is_staff=True
    )


@pytest.fixture
def staff_public(staff, public_host) -> Client:
    return mfa_client_for(staff, public_host)


def _ask(staff_public: Client, school, member_user: User, reason: str = REASON):
    member = Membership.objects.get(user=member_user, tenant=school.tenant)
    return staff_public.post(
        f"/staff/tenants/{school.tenant.public_id}/impersonate/",
        {"member": str(member.public_id), "reason": reason},
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _go(staff_public: Client, asked, school) -> str:
    """The page the request answers (a link, not a redirect: the production CSP's form-action),
    then its link: the login handover to the school's host."""
    assert asked.status_code == 200, asked.status_code
    impersonation = Impersonation.objects.get(staff__email="support@practika.example")
    link = f"/staff/impersonations/{impersonation.public_id}/go/"
    assert f'href="{link}"' in asked.content.decode()
    go = staff_public.get(link)
    assert go.status_code == 302
    assert urlsplit(go["Location"]).hostname == school.host
    return go["Location"]


def _start(staff_public: Client, school, member_user: User) -> Client:
    """The whole way in: the staff area's form, the login handover to the tenant's host, the
    start page and its button (hijack's acquire)."""
    asked = _ask(staff_public, school, member_user)
    tenant, response = follow_handover(_go(staff_public, asked, school), public=staff_public)
    assert response.status_code == 302, response.content[:300]
    start_path = response["Location"]
    assert start_path.startswith("/support/")
    page = tenant.get(start_path)
    assert page.status_code == 200
    assert REASON in page.content.decode() and member_user.email in page.content.decode()
    impersonation = Impersonation.objects.get(staff__email="support@practika.example")
    acquired = tenant.post(
        "/support/hijack/acquire/", {"impersonation": str(impersonation.public_id)}
    )
    assert acquired.status_code == 302 and acquired["Location"] == "/"
    return tenant


def _events(school, action: str):
    return list(AuditEvent.objects.filter(tenant=school.tenant, action=action).order_by("id"))


def test_without_a_reason_staff_are_refused(school_a, staff_public):
    for reason in ["", "   ", "because"]:
        response = _ask(staff_public, school_a, school_a.student, reason)
        assert response.status_code == 302
        assert response["Location"] == f"/staff/tenants/{school_a.tenant.public_id}/"
        assert any("Write why" in m for m in _messages(response))
    assert not Impersonation.objects.exists()
    assert not _events(school_a, "staff.impersonation_started")


def test_with_a_reason_staff_act_as_the_member_with_a_banner_and_it_is_logged(
    school_a, staff, staff_public
):
    admin = User.objects.create_user(email="imp-admin@school-a.example.com", password=None)
    Membership.objects.create(user=admin, tenant=school_a.tenant, role=Role.ADMIN)
    tenant = _start(staff_public, school_a, admin)

    started = _events(school_a, "staff.impersonation_started")
    assert len(started) == 1
    assert started[0].actor_id == staff.pk
    assert started[0].data["reason"] == REASON
    assert started[0].data["member_email"] == admin.email

    # Every page is the member's, with the banner (hijack's notification, ours), and no
    # inline script or style in it.
    for path in ["/", "/manage/members/", "/manage/audit/"]:
        page = tenant.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert page.wsgi_request.user.pk == admin.pk
        assert "data-support-banner" in html and REASON in html, path
        banner = html[html.index("data-support-banner") :]
        assert "onclick" not in banner and "style=" not in banner and "<script" not in banner
        assert html.index("data-support-banner") < html.rindex("</body>")
    audit_page = tenant.get("/manage/audit/").content.decode()
    assert "Practika staff started acting as a member" in audit_page

    # What they do is the member's, marked as done by staff.
    student = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    tenant.post(f"/manage/members/{student.public_id}/role/", {"role": "teacher"})
    changed = _events(school_a, "member.role_changed")[-1]
    assert changed.actor_id == admin.pk and changed.impersonator_id == staff.pk

    released = tenant.post("/support/hijack/release/")
    assert released.status_code == 200
    assert "Support session ended" in released.content.decode()
    ended = _events(school_a, "staff.impersonation_ended")
    assert len(ended) == 1 and ended[0].data["why"] == "released"
    assert ended[0].actor_id == staff.pk
    # Logged out of the tenant's host: neither the member nor the staff member any more.
    after = tenant.get("/")
    assert after.status_code == 302 and "/accounts/login/" in after["Location"]


def test_support_access_off_refuses_and_ends_a_running_session(school_a, staff_public):
    school_a.tenant.support_access = False
    school_a.tenant.save()
    refused = _ask(staff_public, school_a, school_a.student)
    assert any("switched support access off" in m for m in _messages(refused))
    assert not Impersonation.objects.exists()
    page = staff_public.get(f"/staff/tenants/{school_a.tenant.public_id}/")
    assert "switched support access off" in page.content.decode()
    assert 'action="/staff/tenants/' + str(school_a.tenant.public_id) + '/impersonate/"' not in (
        page.content.decode()
    )

    school_a.tenant.support_access = True
    school_a.tenant.save()
    tenant = _start(staff_public, school_a, school_a.student)
    assert tenant.get("/").status_code == 200
    # The owner switches it off in the portal: the session ends at its next request.
    client_for(school_a.owner, school_a.host).post("/manage/settings/support-access/", {})
    cut = tenant.get("/")
    assert cut.status_code == 403
    assert "switched support access off" in cut.content.decode()
    assert f"/staff/tenants/{school_a.tenant.public_id}/" in cut.content.decode()
    ended = _events(school_a, "staff.impersonation_ended")
    assert [e.data["why"] for e in ended] == ["revoked"]
    assert tenant.get("/")["Location"].startswith("/accounts/login/")


def test_a_pending_request_cannot_start_once_support_access_is_off(school_a, staff_public):
    asked = _ask(staff_public, school_a, school_a.student)
    tenant, _ = follow_handover(_go(staff_public, asked, school_a), public=staff_public)
    school_a.tenant.support_access = False
    school_a.tenant.save()
    impersonation = Impersonation.objects.get()
    acquired = tenant.post(
        "/support/hijack/acquire/", {"impersonation": str(impersonation.public_id)}
    )
    assert acquired.status_code == 403
    assert not _events(school_a, "staff.impersonation_started")


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_staff_and_superusers_cannot_be_impersonated(school_a, staff_public, flag):
    other = User.objects.create_user(email="imp-other@practika.example", password=None)
    setattr(other, flag, True)
    other.save()
    Membership.objects.create(user=other, tenant=school_a.tenant, role=Role.TEACHER)
    refused = _ask(staff_public, school_a, other)
    assert any("cannot be impersonated" in m for m in _messages(refused))
    assert not Impersonation.objects.exists()
    page = staff_public.get(f"/staff/tenants/{school_a.tenant.public_id}/").content.decode()
    assert f"Act as {other.display_name}" not in page
    assert f"Act as {school_a.student.display_name}" in page


def test_only_staff_may_ask_or_start(school_a, schools, public_host, staff, staff_public):
    owner = client_for(school_a.owner, public_host)
    assert _ask(owner, school_a, school_a.student).status_code == 403
    assert not Impersonation.objects.exists()

    asked = _ask(staff_public, school_a, school_a.student)
    impersonation = Impersonation.objects.get()
    # A member of the school cannot use a staff member's request.
    member = client_for(school_a.teacher, school_a.host)
    data = {"impersonation": str(impersonation.public_id), "user_pk": school_a.owner.pk}
    assert member.post("/support/hijack/acquire/", data).status_code == 403
    assert member.get(f"/support/{impersonation.public_id}/").status_code == 403
    # Another staff member cannot either.
    colleague = User.objects.create_user(
        email="ops2@practika.example", password=None, is_staff=True
    )
    assert (
        client_for(colleague, school_a.host).post("/support/hijack/acquire/", data).status_code
        == 403
    )
    # Nor on another school's host.
    other_host = mfa_client_for(staff, schools.b.host)
    assert other_host.post("/support/hijack/acquire/", data).status_code == 403

    # The staff member's own: the target is the request's member, never a `user_pk` sent along.
    tenant, _ = follow_handover(_go(staff_public, asked, school_a), public=staff_public)
    acquired = tenant.post("/support/hijack/acquire/", data)
    assert acquired.status_code == 302
    assert tenant.get("/").wsgi_request.user.pk == school_a.student.pk
    # Once used, a request cannot start a second session.
    assert tenant.post("/support/hijack/acquire/", data).status_code == 403
    assert len(_events(school_a, "staff.impersonation_started")) == 1


def test_hijacks_own_views_are_not_mounted(school_a, staff):
    client = client_for(staff, school_a.host)
    assert client.post("/hijack/acquire/", {"user_pk": school_a.student.pk}).status_code == 404


def test_the_time_limit_logs_the_session_out(school_a, staff_public, settings):
    settings.PRACTIKA_IMPERSONATION_MINUTES = 30
    tenant = _start(staff_public, school_a, school_a.student)
    impersonation = Impersonation.objects.get()
    assert (
        timedelta(minutes=29) < impersonation.expires_at - timezone.now() <= timedelta(minutes=30)
    )
    assert tenant.get("/").status_code == 200
    Impersonation.objects.filter(pk=impersonation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    cut = tenant.post("/manage/members/", {})  # a form's POST, as a page would send it
    assert cut.status_code == 403 and "reached its time limit" in cut.content.decode()
    assert [e.data["why"] for e in _events(school_a, "staff.impersonation_ended")] == ["expired"]
    assert tenant.get("/")["Location"].startswith("/accounts/login/")
    api = tenant.get("/api/v1/tenant/")
    assert api.status_code in (401, 403)


def test_the_api_refuses_an_ended_session_in_the_error_shape(school_a, staff_public):
    tenant = _start(staff_public, school_a, school_a.student)
    Impersonation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = tenant.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["code"] == "impersonation_ended"


def test_beat_logs_the_end_of_sessions_whose_browser_never_came_back(school_a, staff_public):
    _start(staff_public, school_a, school_a.student)
    assert tasks.expire_impersonations() == 0
    Impersonation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert tasks.expire_impersonations() == 1
    assert tasks.expire_impersonations() == 0
    ended = _events(school_a, "staff.impersonation_ended")
    assert [e.data["why"] for e in ended] == ["expired"]


def test_staff_act_as_a_teacher_of_a_school_that_requires_two_factor(school_a, staff_public):
    school_a.tenant.mfa_required = True
    school_a.tenant.save()
    tenant = _start(staff_public, school_a, school_a.teacher)
    page = tenant.get("/")
    assert page.status_code == 200  # not sent to set up the teacher's authenticator
    assert page.wsgi_request.user.pk == school_a.teacher.pk


def test_a_support_session_cannot_change_the_members_sign_in(school_a, staff_public):
    tenant = _start(staff_public, school_a, school_a.student)
    for path in [
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
    ]:
        for method in ("get", "post"):
            response = getattr(tenant, method)(path)
            assert response.status_code == 403, (method, path)
    api = tenant.post("/api/v1/auth/password/change/", {})
    assert api.status_code == 403 and api.json()["code"] == "impersonation_forbidden"
    assert tenant.get("/api/v1/auth/tokens/").status_code == 403
    assert tenant.get("/").status_code == 200  # the rest of the member's pages open


def test_a_support_session_cannot_delete_or_export_the_members_data(school_a, staff_public):
    from django_tenants.utils import tenant_context

    from learning.models import Export

    as_student = _start(staff_public, school_a, school_a.student)
    for path in ("/me/delete/", "/my-data/"):
        assert as_student.get(path).status_code == 200  # the pages open, to look
        body = {"confirmation": school_a.student.email}
        assert as_student.post(path, body).status_code == 403, path
    for path, body in (
        ("/api/v1/members/me/deletion/", {"confirmation": school_a.student.email}),
        ("/api/v1/exports/", {"scope": "personal"}),
    ):
        refused = as_student.post(path, body, content_type="application/json")
        assert refused.status_code == 403 and refused.json()["code"] == "impersonation_forbidden"
    assert Membership.objects.filter(tenant=school_a.tenant, user=school_a.student).exists()
    with tenant_context(school_a.tenant):
        assert not Export.objects.exists()


def test_a_support_session_as_the_owner_cannot_delete_or_export_the_school(school_a, staff_public):
    import uuid

    from django_tenants.utils import tenant_context

    from learning.models import Export

    as_owner = _start(staff_public, school_a, school_a.owner)
    member = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    for path, body in (
        ("/manage/deletion/", {"action": "request", "confirmation": school_a.tenant.slug}),
        (f"/manage/members/{member.public_id}/delete/", {"confirmation": member.user.email}),
        ("/manage/export/", {}),
    ):
        assert as_owner.post(path, body).status_code == 403, path
    for path, body in (
        ("/api/v1/tenant/deletion/", {"confirmation": school_a.tenant.slug}),
        (f"/api/v1/members/{member.public_id}/deletion/", {"confirmation": member.user.email}),
        ("/api/v1/exports/", {"scope": "tenant"}),
    ):
        assert as_owner.post(path, body, content_type="application/json").status_code == 403
    export = uuid.uuid4()
    assert as_owner.get(f"/exports/{export}/download/?token=x").status_code == 403
    assert as_owner.get(f"/api/v1/exports/{export}/download/").status_code == 403
    assert as_owner.get("/api/v1/exports/").status_code == 200
    # Nothing was deleted, scheduled or exported.
    school_a.tenant.refresh_from_db()
    assert not school_a.tenant.is_closing
    assert Membership.objects.filter(tenant=school_a.tenant, user=school_a.student).exists()
    with tenant_context(school_a.tenant):
        assert not Export.objects.exists()


def test_logging_out_ends_the_support_session_in_the_log(school_a, staff_public):
    tenant = _start(staff_public, school_a, school_a.student)
    tenant.post("/accounts/logout/")
    ended = _events(school_a, "staff.impersonation_ended")
    assert [e.data["why"] for e in ended] == ["released"]
    assert tenant.get("/")["Location"].startswith("/accounts/login/")


def test_the_link_on_works_only_for_the_staff_member_and_while_pending(
    school_a, public_host, staff_public
):
    _ask(staff_public, school_a, school_a.student)
    impersonation = Impersonation.objects.get()
    link = f"/staff/impersonations/{impersonation.public_id}/go/"
    colleague = User.objects.create_user(
        email="ops3@practika.example", password=None, is_staff=True
    )
    other = mfa_client_for(colleague, public_host).get(link)
    assert other.status_code == 302 and other["Location"] == "/staff/"
    assert client_for(school_a.owner, public_host).get(link).status_code == 403
    Impersonation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert staff_public.get(link)["Location"] == "/staff/"
