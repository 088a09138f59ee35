"""The tenant admin portal: members, roles, join code and settings — owners and admins only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tenants.models import Membership, Role, Tenant, User
from tests.conftest import PASSWORD, client_for


def admin_pages(school) -> list[tuple[str, str]]:
    member = Membership.objects.get(user=school.student, tenant=school.tenant)
    return [
        ("get", "/manage/members/"),
        ("get", "/manage/settings/"),
        ("post", "/manage/settings/"),
        ("post", "/manage/invitations/"),
        ("post", "/manage/join-code/rotate/"),
        ("post", f"/manage/members/{member.public_id}/role/"),
        ("post", f"/manage/members/{member.public_id}/remove/"),
        ("post", "/manage/invitations/00000000-0000-0000-0000-000000000000/revoke/"),
    ]


@pytest.mark.parametrize("who", ["teacher", "student"])
def test_teachers_and_students_cannot_reach_any_admin_page(school_a, who):
    client = client_for(getattr(school_a, who), school_a.host)
    code = school_a.tenant.join_code
    for method, path in admin_pages(school_a):
        response = getattr(client, method)(path, {"role": "owner", "email": "x@example.com"})
        assert response.status_code == 403, (method, path)
        assert "Only the owner and admins" in response.content.decode()
    # Nothing changed behind the refusals.
    assert Membership.objects.get(user=school_a.student, tenant=school_a.tenant).role == "student"
    assert Tenant.objects.get(pk=school_a.tenant.pk).join_code == code


def test_anonymous_visitors_are_sent_to_log_in(school_a):
    response = client_for(None, school_a.host).get("/manage/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_admin_of_another_school_cannot_manage_this_one(school_a, school_b):
    client = client_for(school_b.owner, school_a.host)
    assert client.get("/manage/members/").status_code == 403
    # Nor reach school A's members through school B's own portal.
    member = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    own = client_for(school_b.owner, school_b.host)
    own.post(f"/manage/members/{member.public_id}/remove/")
    assert Membership.objects.filter(pk=member.pk).exists()


def test_members_list_shows_roles_and_last_activity_and_filters_by_role(school_a):
    client_for(school_a.student, school_a.host).get("/")  # records activity
    client = client_for(school_a.owner, school_a.host)

    page = client.get("/manage/members/")

    assert page.status_code == 200
    content = page.content.decode()
    for user in (school_a.owner, school_a.teacher, school_a.student, school_a.other_student):
        assert user.email in content
    assert "Last active" in content
    assert Membership.objects.get(user=school_a.student, tenant=school_a.tenant).last_active_at
    assert "school-b.example.com" not in content
    assert f"/join/{school_a.tenant.join_code}/" in content

    students_page = client.get("/manage/members/?role=student")
    assert students_page.status_code == 200
    students = students_page.content.decode()
    assert school_a.student.email in students
    assert school_a.teacher.email not in students


def test_members_page_query_count_does_not_grow_with_members(school_a):
    client = client_for(school_a.owner, school_a.host)
    client.get("/manage/members/")
    with CaptureQueriesContext(connection) as before:
        client.get("/manage/members/")
    for n in range(5):
        user = User.objects.create_user(email=f"extra{n}@example.com", password=PASSWORD)
        Membership.objects.create(user=user, tenant=school_a.tenant, role=Role.STUDENT)
    with CaptureQueriesContext(connection) as after:
        client.get("/manage/members/")
    assert len(after) == len(before)


def test_the_owner_changes_a_role(school_a):
    member = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    client = client_for(school_a.owner, school_a.host)

    response = client.post(f"/manage/members/{member.public_id}/role/", {"role": "teacher"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.TEACHER
    assert "is now teacher" in client.get("/manage/members/").content.decode()


def test_the_last_owner_cannot_be_demoted(school_a):
    owner = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)
    client = client_for(school_a.owner, school_a.host)

    client.post(f"/manage/members/{owner.public_id}/role/", {"role": "admin"})

    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert "needs at least one owner" in client.get("/manage/members/").content.decode()


def test_an_admin_cannot_make_an_owner(school_a):
    Membership.objects.filter(user=school_a.teacher, tenant=school_a.tenant).update(
        role=Role.ADMIN
    )
    student = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    client = client_for(school_a.teacher, school_a.host)
    assert client.get("/manage/members/").status_code == 200  # admins may manage members

    client.post(f"/manage/members/{student.public_id}/role/", {"role": "owner"})

    student.refresh_from_db()
    assert student.role == Role.STUDENT
    assert "Only an owner can grant" in client.get("/manage/members/").content.decode()


def test_settings_rename_and_upload_a_logo(school_a):
    client = client_for(school_a.owner, school_a.host)
    png = io.BytesIO()
    Image.new("RGB", (64, 32), "#4b3fd1").save(png, "PNG")
    logo = SimpleUploadedFile("logo.png", png.getvalue(), content_type="image/png")

    response = client.post("/manage/settings/", {"name": "School A Music", "logo": logo})

    assert response.status_code == 302
    tenant = Tenant.objects.get(pk=school_a.tenant.pk)
    assert tenant.name == "School A Music"
    assert tenant.logo.name.startswith(f"tenants/{tenant.public_id}/branding/logo-")
    home = client.get("/").content.decode()
    assert tenant.logo.url in home  # shown in the top bar
    tenant.logo.delete(save=False)


@pytest.mark.parametrize(
    ("filename", "payload", "message"),
    [
        ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "Upload a valid image"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "Upload a valid image"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "Upload a valid image"),
        ("logo.tiff", "tiff", "Upload a PNG, JPEG, GIF or WebP image"),
    ],
)
def test_settings_refuse_what_is_not_an_image(school_a, filename, payload, message):
    client = client_for(school_a.owner, school_a.host)
    if payload == "tiff":
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "TIFF")
        payload = buffer.getvalue()
    upload = SimpleUploadedFile(filename, payload, content_type="image/png")

    response = client.post("/manage/settings/", {"name": "School A", "logo": upload})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Tenant.objects.get(pk=school_a.tenant.pk).logo


def test_settings_refuse_an_empty_name(school_a):
    response = client_for(school_a.owner, school_a.host).post("/manage/settings/", {"name": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_nav_shows_admin_links_only_to_admins(school_a):
    owner = client_for(school_a.owner, school_a.host).get("/")
    student = client_for(school_a.student, school_a.host).get("/")
    assert owner.status_code == student.status_code == 200
    owner_page, student_page = owner.content.decode(), student.content.decode()
    assert 'href="/manage/members/"' in owner_page
    assert 'href="/manage/settings/"' in owner_page
    assert "/manage/" not in student_page


def _admin_client(school):
    """The school's teacher, made an admin: may manage members, but not owners."""
    Membership.objects.filter(user=school.teacher, tenant=school.tenant).update(role=Role.ADMIN)
    return client_for(school.teacher, school.host)


def test_an_admin_cannot_demote_or_remove_an_owner_on_the_page(school_a):
    owner = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)
    client = _admin_client(school_a)

    demoted = client.post(f"/manage/members/{owner.public_id}/role/", {"role": "student"})
    removed = client.post(f"/manage/members/{owner.public_id}/remove/")

    assert demoted.status_code == 302 and removed.status_code == 302
    owner.refresh_from_db()  # still there, still the owner
    assert owner.role == Role.OWNER
    page = client.get("/manage/members/")
    assert page.status_code == 200
    assert "Only an owner can grant or take away ownership" in page.content.decode()
    # Positive control: the same admin may change a student's role.
    student = Membership.objects.get(user=school_a.student, tenant=school_a.tenant)
    client.post(f"/manage/members/{student.public_id}/role/", {"role": "teacher"})
    student.refresh_from_db()
    assert student.role == Role.TEACHER


def test_an_admin_cannot_demote_or_remove_an_owner_in_the_api(school_a):
    owner = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)
    client = _admin_client(school_a)
    url = f"/api/v1/members/{owner.public_id}/"

    demoted = client.patch(url, {"role": "admin"}, content_type="application/json")
    removed = client.delete(url)

    assert demoted.status_code == 403 and demoted.json()["code"] == "forbidden"
    assert "Only an owner can grant or take away ownership" in demoted.json()["message"]
    assert removed.status_code == 403 and removed.json()["code"] == "forbidden"
    assert "Only an owner can remove an owner" in removed.json()["message"]
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
