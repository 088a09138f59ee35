"""Practika's staff area on the public site: find tenants, suspend and reactivate them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants import services
from tenants.models import Invitation, Membership, Tenant, User
from tests.conftest import PASSWORD, client_for, mfa_client_for


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="ops@practika.example", password=PASSWORD, is_staff=True)


def schema_snapshot(schema: str) -> tuple[list[str], int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT count(*) FROM "{schema}".django_migrations')  # noqa: S608
        return tables, cursor.fetchone()[0]


def test_anonymous_visitors_are_sent_to_log_in_and_others_refused(schools, public_host):
    anonymous = Client(HTTP_HOST=public_host).get("/staff/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=/staff/")
    # A tenant owner is not Practika staff.
    owner = client_for(schools.a.owner, public_host)
    tenant = schools.a.tenant
    for method, path in [
        ("get", "/staff/"), ("get", f"/staff/tenants/{tenant.public_id}/"),
        ("post", f"/staff/tenants/{tenant.public_id}/suspend/"),
        ("post", f"/staff/tenants/{tenant.public_id}/reactivate/"),
    ]:
        assert getattr(owner, method)(path).status_code == 403, path
    assert not Tenant.objects.get(pk=tenant.pk).is_suspended


def test_the_staff_area_is_not_served_on_tenant_hosts(schools, staff):
    assert client_for(staff, schools.a.host).get("/staff/").status_code == 404


def test_staff_list_and_search_tenants(schools, public_host, staff):
    client = mfa_client_for(staff, public_host)

    page = client.get("/staff/")
    assert page.status_code == 200
    listed = {t.slug for t in page.context["page"].object_list}
    assert {"school-a", "school-b"} <= listed
    assert "practika-public" not in listed
    row = next(t for t in page.context["page"].object_list if t.slug == "school-a")
    assert row.member_count == 4
    assert row.student_count == 2
    assert 'href="/staff/"' in page.content.decode()  # the Staff link in the top bar
    assert "/django-admin/" in page.content.decode()

    def slugs(**params):
        return {t.slug for t in client.get("/staff/", params).context["page"].object_list}

    assert slugs(q="School A") == {"school-a"}
    assert slugs(q="teacher@school-b.example") == {"school-b"}
    assert slugs(q="nothing-like-this") == set()
    assert {"school-a", "school-b"} <= slugs(kind="school")
    assert not {"school-a", "school-b"} & slugs(kind="studio")
    assert not {"school-a", "school-b"} & slugs(status="suspended")


def test_staff_tenant_detail(schools, public_host, staff):
    tenant = schools.a.tenant
    services.join_code_rotate(tenant=tenant, actor=schools.a.owner)
    page = mfa_client_for(staff, public_host).get(f"/staff/tenants/{tenant.public_id}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert schools.a.teacher.email in content
    assert "school-a.practika.test" in content
    assert "join_code.rotated" in content
    assert schools.b.teacher.email not in content


def test_suspend_then_reactivate_keeps_everything(schools, public_host, staff):
    tenant = schools.a.tenant
    Invitation.objects.create(
        tenant=tenant, email="waiting@example.com", role="student", invited_by=schools.a.owner,
        expires_at=tenant.created_at.replace(year=2100),
    )
    memberships = set(Membership.objects.filter(tenant=tenant).values_list("pk", "role"))
    invitations = set(Invitation.objects.filter(tenant=tenant).values_list("pk", "token"))
    schema_before = schema_snapshot(tenant.schema_name)
    assert schema_before[0]  # the schema has tables to keep
    client = mfa_client_for(staff, public_host)
    student = client_for(schools.a.student, schools.a.host)

    response = client.post(
        f"/staff/tenants/{tenant.public_id}/suspend/", {"reason": "Unpaid invoice"}
    )

    assert response.status_code == 302
    suspended = Tenant.objects.get(pk=tenant.pk)
    assert suspended.is_suspended
    assert suspended.suspension_reason == "Unpaid invoice"
    for who in (schools.a.student, schools.a.owner):
        page = client_for(who, schools.a.host).get("/")
        assert page.status_code == 403
        assert "suspended" in page.content.decode()
    assert student.get("/manage/members/").status_code == 403
    # Other tenants are untouched.
    assert client_for(schools.b.student, schools.b.host).get("/").status_code == 200
    assert client.get("/staff/", {"status": "suspended"}).context["page"].paginator.count >= 1

    response = client.post(f"/staff/tenants/{tenant.public_id}/reactivate/")

    assert response.status_code == 302
    assert not Tenant.objects.get(pk=tenant.pk).is_suspended
    assert student.get("/").status_code == 200
    assert set(Membership.objects.filter(tenant=tenant).values_list("pk", "role")) == memberships
    assert set(Invitation.objects.filter(tenant=tenant).values_list("pk", "token")) == invitations
    assert schema_snapshot(tenant.schema_name) == schema_before
    detail = client.get(f"/staff/tenants/{tenant.public_id}/").content.decode()
    assert "tenant.suspended" in detail
    assert "tenant.reactivated" in detail


def test_staff_list_query_count_does_not_grow_with_tenants(schools, public_host, staff):
    client = mfa_client_for(staff, public_host)
    client.get("/staff/")
    with CaptureQueriesContext(connection) as before:
        client.get("/staff/")
    # Rows only (bulk_create skips schema creation): the list page never enters a schema.
    Tenant.objects.bulk_create(
        Tenant(schema_name=f"t_bulk_{n}", slug=f"bulk-{n}", name=f"Bulk {n}", kind="studio")
        for n in range(5)
    )
    with CaptureQueriesContext(connection) as after:
        page = client.get("/staff/")
    assert page.context["page"].paginator.count >= 7
    assert len(after) == len(before)
