"""The identity and tenancy API on the public site and on a tenant's host."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from knox.crypto import hash_token

from tenants import services
from tenants.models import ApiToken, Invitation, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, client_for, token_client_for
from tests.support.handover import follow_handover

# The identity API alone, for validating its part of the OpenAPI schema (see the last tests).
urlpatterns = [
    path("api/v1/auth/", include("tenants.urls_auth")),
    path("api/v1/", include("tenants.urls_api")),
]


def token_client(user: User, host: str) -> Client:
    return token_client_for(user, host)


def post_json(client: Client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


def patch_json(client: Client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


# --- Login --------------------------------------------------------------------------------


@pytest.mark.parametrize("on", ["public", "tenant"])
def test_login_with_email_and_password_returns_a_token_that_authenticates(
    on, school_a, public_host
):
    host = public_host if on == "public" else school_a.host
    client = Client(HTTP_HOST=host)

    response = post_json(
        client, "/api/v1/auth/login/", {"email": school_a.teacher.email, "password": PASSWORD}
    )

    assert response.status_code == 200, response.content
    key = response.json()["key"]
    assert ApiToken.objects.get(digest=hash_token(key)).user == school_a.teacher
    api = Client(HTTP_HOST=school_a.host, HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/tenant/").json()["role"] == "teacher"


def test_login_with_a_wrong_password_is_refused_in_the_error_format(school_a, public_host):
    response = post_json(
        Client(HTTP_HOST=public_host), "/api/v1/auth/login/",
        {"email": school_a.teacher.email, "password": "not-the-password"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "key" not in response.json()


def test_login_needs_the_email_not_a_username(school_a, public_host):
    response = post_json(
        Client(HTTP_HOST=public_host), "/api/v1/auth/login/",
        {"username": school_a.teacher.email, "password": PASSWORD},
    )

    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_failed_api_logins_are_limited_across_every_host(schools, public_host, db):
    # Counting in each tenant's cache namespace would give an attacker 5 guesses per host.
    email = "brute-force-target@example.com"
    hosts = [public_host, schools.a.host, schools.b.host]
    try:
        statuses = []
        for attempt in range(7):
            client = Client(HTTP_HOST=hosts[attempt % 3], REMOTE_ADDR="198.51.100.7")
            response = post_json(
                client, "/api/v1/auth/login/", {"email": email, "password": f"guess-{attempt}"}
            )
            statuses.append((response.status_code, response.json()))
        messages = [body["fields"]["non_field_errors"][0] for _, body in statuses]
        assert all(status == 400 for status, _ in statuses)
        assert "Too many" not in messages[0]
        assert "Too many" in messages[-1]
    finally:
        cache.clear()


def test_user_details_show_the_account_without_internal_ids(school_a):
    response = token_client(school_a.student, school_a.host).get("/api/v1/auth/user/")

    assert response.status_code == 200
    assert response.json() == {
        "public_id": str(school_a.student.public_id),
        "email": school_a.student.email,
        "full_name": school_a.student.full_name,
    }


# --- Public site: sign-up, my tenants ------------------------------------------------------


def test_signup_sends_the_link_that_creates_the_owner_and_the_tenant(
    public_host, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            Client(HTTP_HOST=public_host), "/api/v1/signup/",
            {
                "email": "New.Teacher@example.com", "full_name": "Nina Teacher",
                "tenant_name": "Nina's Piano Studio", "slug": "nina-piano", "kind": "studio",
            },
        )

    # The same answer for every address (tests/security/test_signup_enumeration.py).
    assert response.status_code == 202, response.content
    assert response.json()["code"] == "signup_email_sent"
    assert not Tenant.objects.filter(slug="nina-piano").exists()
    (sent,) = mail.outbox
    assert sent.to == ["new.teacher@example.com"]
    link = urlsplit(re.search(r"https?://\S+/signup/finish/\S+/", sent.body).group(0))
    public = Client(HTTP_HOST=public_host)
    finished = public.post(
        link.path,
        {"password": "a-long-enough-passphrase", "tenant_name": "Nina's Piano Studio",
         "slug": "nina-piano"},
    )
    assert finished.status_code == 302
    tenant = Tenant.objects.get(slug="nina-piano")
    owner = User.objects.get(email="new.teacher@example.com")
    assert owner.full_name == "Nina Teacher"
    assert Membership.objects.get(tenant=tenant).user == owner
    assert Membership.objects.get(tenant=tenant).role == Role.OWNER
    browser, landed = follow_handover(finished["Location"], public=public)
    assert landed.status_code == 302
    assert browser.get("/").status_code == 200


def test_signup_with_a_taken_slug_suggests_another(school_a, public_host):
    response = post_json(
        Client(HTTP_HOST=public_host), "/api/v1/signup/",
        {
            "email": "someone@example.com", "password": "a-long-enough-passphrase",
            "tenant_name": "Another School A", "slug": "school-a", "kind": "school",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "slug_unavailable"
    assert response.json()["suggestion"] == "school-a-2"
    assert not User.objects.filter(email="someone@example.com").exists()


def test_signup_validates_the_kind(public_host, db):
    response = post_json(
        Client(HTTP_HOST=public_host), "/api/v1/signup/",
        {
            "email": "x@example.com", "password": "a-long-enough-passphrase",
            "tenant_name": "X", "slug": "x-studio", "kind": "university",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "kind" in response.json()["fields"]


def test_my_tenants_lists_my_memberships_only(schools, public_host, db):
    Membership.objects.create(user=schools.a.teacher, tenant=schools.b.tenant, role=Role.STUDENT)

    response = token_client(schools.a.teacher, public_host).get("/api/v1/me/tenants/")

    assert response.status_code == 200
    assert [(m["tenant"]["slug"], m["role"]) for m in response.json()] == [
        ("school-a", "teacher"), ("school-b", "student"),
    ]
    assert response.json()[0]["tenant"]["url"] == "http://school-a.practika.test/"


def test_my_tenants_needs_a_login(public_host, db):
    response = Client(HTTP_HOST=public_host).get("/api/v1/me/tenants/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- A tenant's host ----------------------------------------------------------------------


def test_tenant_shows_my_role_and_the_join_code_to_staff_only(school_a):
    teacher = token_client(school_a.teacher, school_a.host).get("/api/v1/tenant/").json()
    student = token_client(school_a.student, school_a.host).get("/api/v1/tenant/").json()

    assert teacher == {
        "public_id": str(school_a.tenant.public_id), "name": school_a.tenant.name,
        "slug": "school-a", "kind": "school", "role": "teacher",
        "join_code": school_a.tenant.join_code,
    }
    assert student["role"] == "student"
    assert student["join_code"] is None


def test_members_are_paginated_and_filtered(school_a):
    client = token_client(school_a.teacher, school_a.host)

    everyone = client.get("/api/v1/members/").json()
    students = client.get("/api/v1/members/?role=student").json()
    first = client.get("/api/v1/members/?limit=1").json()

    assert everyone["count"] == 4
    assert {m["user"]["email"] for m in everyone["results"]} == {
        school_a.owner.email, school_a.teacher.email, school_a.student.email,
        school_a.other_student.email,
    }
    assert students["count"] == 2
    assert {m["role"] for m in students["results"]} == {"student"}
    assert len(first["results"]) == 1
    assert first["next"]


def test_members_list_queries_do_not_grow_with_members(school_a):
    client = token_client(school_a.teacher, school_a.host)
    client.get("/api/v1/members/")  # the first request caches the host's tenant
    with CaptureQueriesContext(connection) as four_members:
        client.get("/api/v1/members/")
    for n in range(5):
        user = User.objects.create_user(email=f"extra-{n}@example.com", password=PASSWORD)
        Membership.objects.create(user=user, tenant=school_a.tenant, role=Role.STUDENT)

    with CaptureQueriesContext(connection) as nine_members:
        response = client.get("/api/v1/members/")

    assert response.json()["count"] == 9
    assert len(nine_members) == len(four_members)


def test_members_list_is_for_teachers_and_admins_not_students(school_a):
    response = token_client(school_a.student, school_a.host).get("/api/v1/members/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_members_filter_rejects_an_unknown_role(school_a):
    response = token_client(school_a.teacher, school_a.host).get("/api/v1/members/?role=king")

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


def test_owner_changes_a_role_and_teacher_cannot(school_a):
    member = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    path = f"/api/v1/members/{member.public_id}/"

    denied = patch_json(token_client(school_a.teacher, school_a.host), path, {"role": "teacher"})
    changed = patch_json(token_client(school_a.owner, school_a.host), path, {"role": "teacher"})

    assert denied.status_code == 403
    assert changed.status_code == 200
    assert changed.json()["role"] == "teacher"
    assert changed.json()["user"]["email"] == school_a.student.email
    member.refresh_from_db()
    assert member.role == Role.TEACHER


def test_the_last_owner_cannot_be_demoted(school_a):
    owner = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)

    response = patch_json(
        token_client(school_a.owner, school_a.host),
        f"/api/v1/members/{owner.public_id}/", {"role": "admin"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "last_owner", "message": "Every school and studio needs at least one owner."
    }


def test_owner_removes_a_member(school_a):
    member = Membership.objects.get(user=school_a.other_student, tenant=school_a.tenant)

    response = token_client(school_a.owner, school_a.host).delete(
        f"/api/v1/members/{member.public_id}/"
    )

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_an_admin_cannot_reach_another_schools_member_from_their_own_host(schools, db):
    other = Membership.objects.get(user=schools.b.student, tenant=schools.b.tenant)
    client = token_client(schools.a.owner, schools.a.host)

    patched = patch_json(client, f"/api/v1/members/{other.public_id}/", {"role": "teacher"})
    deleted = client.delete(f"/api/v1/members/{other.public_id}/")

    assert patched.status_code == 404
    assert deleted.status_code == 404
    assert patched.json()["code"] == "not_found"
    other.refresh_from_db()
    assert other.role == Role.STUDENT


def test_invitations_are_created_listed_and_revoked_by_admins(
    school_a, django_capture_on_commit_callbacks
):
    client = token_client(school_a.owner, school_a.host)

    with django_capture_on_commit_callbacks(execute=True):
        created = post_json(
            client, "/api/v1/invitations/", {"email": "Violin@Example.com", "role": "teacher"}
        )
    listed = client.get("/api/v1/invitations/").json()

    assert created.status_code == 201, created.content
    assert created.json()["email"] == "violin@example.com"
    assert "token" not in created.json()
    assert [m.to for m in mail.outbox] == [["violin@example.com"]]
    assert [i["public_id"] for i in listed["results"]] == [created.json()["public_id"]]

    revoked = client.delete(f"/api/v1/invitations/{created.json()['public_id']}/")

    assert revoked.status_code == 204
    assert client.get("/api/v1/invitations/").json()["count"] == 0


def test_invitations_cannot_make_owners_and_are_admin_only(school_a):
    owner = post_json(
        token_client(school_a.owner, school_a.host), "/api/v1/invitations/",
        {"email": "boss@example.com", "role": "owner"},
    )
    teacher = token_client(school_a.teacher, school_a.host).get("/api/v1/invitations/")

    assert owner.status_code == 400
    assert "role" in owner.json()["fields"]
    assert teacher.status_code == 403


def test_join_code_rotation_is_for_admins(school_a):
    old = school_a.tenant.join_code

    denied = post_json(token_client(school_a.teacher, school_a.host), "/api/v1/join-code/rotate/")
    rotated = post_json(token_client(school_a.owner, school_a.host), "/api/v1/join-code/rotate/")

    assert denied.status_code == 403
    assert rotated.status_code == 200
    assert rotated.json()["join_code"] != old
    assert Tenant.objects.get(pk=school_a.tenant.pk).join_code == rotated.json()["join_code"]


def test_anyone_logged_in_joins_with_the_code_as_a_student(school_a):
    newcomer = User.objects.create_user(email="newcomer@example.com", password=PASSWORD)
    client = token_client(newcomer, school_a.host)

    wrong = post_json(client, "/api/v1/join/", {"code": "WRONGCODE1"})
    joined = post_json(client, "/api/v1/join/", {"code": school_a.tenant.join_code.lower()})

    assert wrong.status_code == 410
    assert wrong.json()["code"] == "join_code_invalid"
    assert joined.status_code == 200
    assert joined.json()["role"] == "student"
    assert joined.json()["tenant"]["slug"] == "school-a"
    assert client.get("/api/v1/tenant/").status_code == 200


def test_join_needs_a_login(school_a):
    response = post_json(
        Client(HTTP_HOST=school_a.host), "/api/v1/join/", {"code": school_a.tenant.join_code}
    )

    assert response.status_code == 401


def test_an_invitation_is_accepted_once(school_a):
    invitee = User.objects.create_user(email="invitee@example.com", password=PASSWORD)
    invitation = services.invitation_create(
        tenant=school_a.tenant, email=invitee.email, role=Role.TEACHER, actor=school_a.owner
    )
    client = token_client(invitee, school_a.host)

    accepted = post_json(client, f"/api/v1/invitations/{invitation.token}/accept/")
    again = post_json(client, f"/api/v1/invitations/{invitation.token}/accept/")

    assert accepted.status_code == 200
    assert accepted.json()["role"] == "teacher"
    assert again.status_code == 410
    assert again.json()["code"] == "invitation_used"
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == invitee


def test_an_invitation_of_another_school_is_unknown_here(schools, db):
    invitation = services.invitation_create(
        tenant=schools.b.tenant, email="someone-b@example.com", role=Role.STUDENT,
        actor=schools.b.owner,
    )

    response = post_json(
        token_client(schools.a.student, schools.a.host),
        f"/api/v1/invitations/{invitation.token}/accept/",
    )

    assert response.status_code == 410
    assert response.json()["code"] == "invitation_unknown"
    assert not Membership.objects.filter(user=schools.a.student, tenant=schools.b.tenant).exists()


def test_a_suspended_tenant_refuses_members_and_joiners(school_a):
    services.tenant_suspend(tenant=school_a.tenant, actor=school_a.owner, reason="unpaid")
    newcomer = User.objects.create_user(email="late@example.com", password=PASSWORD)

    member = token_client(school_a.teacher, school_a.host).get("/api/v1/tenant/")
    joiner = post_json(
        token_client(newcomer, school_a.host), "/api/v1/join/",
        {"code": school_a.tenant.join_code},
    )

    assert member.status_code == 403
    assert joiner.status_code == 403


# --- Schema -------------------------------------------------------------------------------


def test_api_schema_is_served_on_the_public_site(public_host, db):
    response = Client(HTTP_HOST=public_host).get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi" in response.content


def test_api_schema_on_a_tenant_host_is_for_members(school_a):
    member = client_for(school_a.student, school_a.host).get("/api/schema/")
    anonymous = Client(HTTP_HOST=school_a.host).get("/api/schema/")

    assert member.status_code == 200
    assert b"/api/v1/members/" in member.content
    assert anonymous.status_code == 401


@pytest.mark.parametrize("urlconf", ["config.urls_public", __name__])
def test_the_identity_api_schema_validates_without_warnings(urlconf, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning (a missing type, a name clash) into
    # an error; the tenant host's routes of this app are checked through this module.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--urlconf", urlconf,
        "--file", str(tmp_path / "schema.yaml"),
    )

    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/auth/login/" in schema
    assert ("/api/v1/signup/" if urlconf == "config.urls_public" else "/api/v1/members/") in schema
