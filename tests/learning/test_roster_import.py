"""Roster import in the admin portal: a CSV or a OneRoster 1.1 export, previewed (every bad
row in plain words, bulk reads), then imported in one transaction, idempotently."""

from __future__ import annotations

import io
import re
import time
import zipfile
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from billing.models import Subscription
from learning.models import Classroom, RosterImport, RosterPerson
from tenants.models import AuditEvent, Invitation, Membership, Role, User
from tests.conftest import PASSWORD, client_for


def school_plan(tenant) -> None:
    """A school on the per-seat plan: no student limit."""
    Subscription.objects.create(
        tenant=tenant, source="manual", plan_code="school", status="active", quantity=1
    )


def simple_csv(rows: int, *, classes: int = 20, domain: str = "roster.example.org") -> bytes:
    lines = ["email,first_name,last_name,role,class"]
    for i in range(rows):
        role = "teacher" if i % 50 == 0 else "student"
        klass = f"Class {i % classes}" if role == "student" else ""
        lines.append(f"person{i}@{domain},First{i},Last{i},{role},{klass}")
    return ("\r\n".join(lines) + "\r\n").encode()


def oneroster_zip(students: int, *, classes: int = 10) -> bytes:
    users = [
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
        "userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,"
        "grades,password"
    ]
    users.append(",active,,true,org1,teacher,tch1,,Tess,Teach,,,tess@or.example.org,,,,,")
    users[-1] = "t1" + users[-1]
    users.append("g1,active,,true,org1,guardian,par1,,Pat,Parent,,,pat@or.example.org,,,,,")
    for i in range(students):
        users.append(
            f"s{i},active,,true,org1,student,stu{i},,Stu{i},Dent,,,s{i}@or.example.org,,,,,"
        )
    class_rows = [
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
        "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ]
    for c in range(classes):
        class_rows.append(f"c{c},active,,Band {c},,course1,B{c},scheduled,,org1,term1,,,")
    enrolments = [
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
        "userSourcedId,role,primary,beginDate,endDate"
    ]
    enrolments.append("e-t,active,,c0,org1,t1,teacher,true,,")
    enrolments.append("e-g,active,,c0,org1,g1,guardian,false,,")
    for i in range(students):
        enrolments.append(f"e{i},active,,c{i % classes},org1,s{i},student,false,,")
    files = {
        "manifest.csv": "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\n",
        "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
        "org1,active,,Lincoln High,school,,\r\n",
        "users.csv": "\r\n".join(users) + "\r\n",
        "classes.csv": "\r\n".join(class_rows) + "\r\n",
        "enrollments.csv": "\r\n".join(enrolments) + "\r\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"oneroster/{name}", text)
    return buffer.getvalue()


def upload(client: Client, name: str, content: bytes, *, sign_in: str = "sso") -> str:
    """Upload through the portal; the preview's path."""
    response = client.post("/manage/roster/", {"sign_in": sign_in, "files": [_file(name, content)]})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def confirm(client: Client, preview_path: str, **extra) -> None:
    response = client.post(preview_path + "import/", extra)
    assert response.status_code == 302


def snapshot(tenant) -> tuple:
    """Everything an import writes, to compare before and after."""
    members = sorted(Membership.objects.filter(tenant=tenant).values_list("user__email", "role"))
    invitations = Invitation.objects.filter(tenant=tenant).count()
    with tenant_context(tenant):
        classes = sorted(Classroom.objects.values_list("pk", "name"))
        places = sorted(Classroom.students.through.objects.values_list("classroom_id", "user_id"))
        people = RosterPerson.objects.count()
    return members, invitations, classes, places, people


# --- The two layouts, at size ------------------------------------------------------------


def test_a_1000_row_csv_imports_in_under_10_seconds_with_memberships_and_classes(school_a):
    school_plan(school_a.tenant)
    client = client_for(school_a.owner, school_a.host)

    started = time.perf_counter()
    preview_path = upload(client, "roster.csv", simple_csv(1000))
    page = client.get(preview_path)
    confirm(client, preview_path)
    elapsed = time.perf_counter() - started

    assert elapsed < 10, elapsed
    assert page.status_code == 200
    counts = page.context["preview"].counts
    assert counts["people_created"] == 1000 and counts["errors"] == 0
    assert counts["classes_created"] == 20
    members = Membership.objects.filter(
        tenant=school_a.tenant, user__email__endswith="@roster.example.org"
    )
    assert members.filter(role=Role.STUDENT).count() == 980
    assert members.filter(role=Role.TEACHER).count() == 20
    user = User.objects.get(email="person1@roster.example.org")
    assert user.full_name == "First1 Last1"
    assert not user.has_usable_password()  # SSO only
    with tenant_context(school_a.tenant):
        class_1 = Classroom.objects.get(name="Class 1")
        assert class_1.students.count() == 50
        assert user in class_1.students.all()
        assert RosterPerson.objects.get(email=user.email).sign_in == "sso"
    event = AuditEvent.objects.get(tenant=school_a.tenant, action="roster.imported")
    assert event.actor == school_a.owner
    assert event.data["people_created"] == 1000 and event.data["enrolments_created"] == 980


def test_a_oneroster_zip_imports_users_classes_and_enrolments(school_a):
    school_plan(school_a.tenant)
    client = client_for(school_a.owner, school_a.host)

    started = time.perf_counter()
    preview_path = upload(client, "export.zip", oneroster_zip(999))
    preview = client.get(preview_path).context["preview"]
    confirm(client, preview_path)
    elapsed = time.perf_counter() - started

    assert elapsed < 10, elapsed
    assert preview.layout == "oneroster" and preview.errors == []
    assert preview.skipped == 2  # the guardian and their enrolment
    assert preview.counts["people_created"] == 1000
    tenant = school_a.tenant
    assert (
        Membership.objects.get(tenant=tenant, user__email="tess@or.example.org").role == "teacher"
    )
    assert (
        Membership.objects.filter(
            tenant=tenant, user__email__endswith="@or.example.org", role="student"
        ).count()
        == 999
    )
    assert not User.objects.filter(email="pat@or.example.org").exists()
    with tenant_context(tenant):
        assert Classroom.objects.filter(name__startswith="Band ").count() == 10
        band_3 = Classroom.objects.get(name="Band 3")
        assert band_3.roster.sourced_id == "c3"
        assert band_3.students.count() == 100
        assert RosterPerson.objects.get(sourced_id="s3").email == "s3@or.example.org"


def test_a_oneroster_class_renamed_at_the_source_is_renamed_here(school_a):
    school_plan(school_a.tenant)
    client = client_for(school_a.owner, school_a.host)
    confirm(client, upload(client, "export.zip", oneroster_zip(5, classes=2)))
    renamed = _rezip(
        oneroster_zip(5, classes=2),
        "classes.csv",
        lambda text: text.replace("Band 1,", "Jazz Band,"),
    )

    preview_path = upload(client, "export.zip", renamed)
    preview = client.get(preview_path).context["preview"]
    confirm(client, preview_path)

    assert preview.counts["classes_updated"] == 1 and preview.counts["people_created"] == 0
    with tenant_context(school_a.tenant):
        assert Classroom.objects.get(roster__sourced_id="c1").name == "Jazz Band"
        assert Classroom.objects.get(name="Jazz Band").students.count() == 2


def _rezip(content: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            text = source.read(info).decode()
            archive.writestr(info.filename, change(text) if info.filename.endswith(name) else text)
    return buffer.getvalue()


# --- Bad rows -----------------------------------------------------------------------------


BAD_CSV = (
    "email,first_name,last_name,role,class\r\n"
    "good.one@example.org,Good,One,student,Strings\r\n"  # 2
    ",No,Email,student,Strings\r\n"  # 3
    "odd.role@example.org,Odd,Role,principal,\r\n"  # 4
    "good.one@example.org,Good,Again,student,\r\n"  # 5
    "{teacher},Already,Teacher,student,\r\n"  # 6
    "not-an-address,Not,Address,teacher,\r\n"  # 7
    "good.two@example.org,Good,Two,teacher,\r\n"  # 8
)


def test_a_file_with_bad_rows_reports_each_and_imports_nothing_unless_confirmed(school_a):
    client = client_for(school_a.owner, school_a.host)
    content = BAD_CSV.format(teacher=school_a.teacher.email).encode()
    before = snapshot(school_a.tenant)

    preview_path = upload(client, "roster.csv", content)
    page = client.get(preview_path)

    errors = [(e.row, e.column, e.message) for e in page.context["preview"].errors]
    assert errors == [
        (3, "email", "The email is missing."),
        (4, "role", "The role “principal” is unknown: write teacher or student."),
        (5, "email", "good.one@example.org is already on row 2 of this file."),
        (
            6,
            "role",
            f"{school_a.teacher.email} is already a member here as a teacher; the file "
            "says student. Change their role on the Members page if the file is right.",
        ),
        (7, "email", "“not-an-address” is not an email address."),
    ]
    html = page.content.decode()
    assert "5 rows with errors" in html and "principal" in html
    assert page.context["preview"].counts["people_created"] == 2

    # Import without choosing to leave the bad rows out: refused, nothing written.
    refused = client.post(preview_path + "import/", follow=True)
    assert "The file has 5 rows with errors" in refused.content.decode()
    assert snapshot(school_a.tenant) == before
    assert not AuditEvent.objects.filter(action="roster.imported").exists()

    confirm(client, preview_path, include_good_rows="on")
    tenant = school_a.tenant
    assert (
        Membership.objects.get(tenant=tenant, user__email="good.one@example.org").role == "student"
    )
    assert (
        Membership.objects.get(tenant=tenant, user__email="good.two@example.org").role == "teacher"
    )
    assert Membership.objects.get(tenant=tenant, user=school_a.teacher).role == "teacher"
    assert not User.objects.filter(email="odd.role@example.org").exists()
    assert AuditEvent.objects.get(action="roster.imported").data["errors"] == 5
    # An imported upload cannot be imported again.
    imported = snapshot(tenant)
    again = client.post(preview_path + "import/", {"include_good_rows": "on"}, follow=True)
    assert "This file was already imported." in again.content.decode()
    assert snapshot(tenant) == imported


def test_oneroster_rows_that_point_at_nothing_are_reported(school_a):
    client = client_for(school_a.owner, school_a.host)
    content = _rezip(
        oneroster_zip(2, classes=1),
        "enrollments.csv",
        lambda text: (
            text + "e9,active,,c404,org1,s1,student,false,,\r\n"
            "e10,active,,c0,org1,nobody,student,false,,\r\n"
        ),
    )
    content = _rezip(content, "users.csv", lambda text: text.replace("s0@or.example.org", ""))

    preview = client.get(upload(client, "export.zip", content)).context["preview"]

    assert [(e.file, e.column, e.message) for e in preview.errors] == [
        (
            "enrollments.csv",
            "userSourcedId",
            "The person s0 is not in users.csv (or their row has an error).",
        ),
        ("enrollments.csv", "classSourcedId", "The class c404 is not in classes.csv."),
        (
            "enrollments.csv",
            "userSourcedId",
            "The person nobody is not in users.csv (or their row has an error).",
        ),
        ("users.csv", "email", "The email is missing; accounts without an email are not imported."),
    ]


def test_a_file_that_cannot_be_read_is_refused_at_upload_with_the_reason(school_a):
    client = client_for(school_a.owner, school_a.host)
    response = client.post(
        "/manage/roster/", {"sign_in": "sso", "files": [_file("x.csv", b"name,grade\r\nA,3\r\n")]}
    )
    assert response.status_code == 400
    assert "x.csv has no email, role columns" in response.content.decode()
    with tenant_context(school_a.tenant):
        assert not RosterImport.objects.exists()
    zipped = client.post(
        "/manage/roster/", {"sign_in": "sso", "files": [_file("a.zip", b"PK\x03\x04broken")]}
    )
    assert zipped.status_code == 400 and "not a ZIP file" in zipped.content.decode()


# --- Idempotence --------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["simple", "oneroster"])
def test_importing_the_same_file_twice_changes_nothing(school_a, layout):
    school_plan(school_a.tenant)
    client = client_for(school_a.owner, school_a.host)
    name, content = (
        ("roster.csv", simple_csv(60)) if layout == "simple" else ("x.zip", oneroster_zip(60))
    )
    confirm(client, upload(client, name, content))
    after_first = snapshot(school_a.tenant)

    preview_path = upload(client, name, content)
    page = client.get(preview_path)
    preview = page.context["preview"]
    assert not preview.changes_anything
    assert preview.counts["people_created"] == 0 and preview.counts["people_unchanged"] == (
        60 if layout == "simple" else 61
    )
    assert "This file changes nothing" in page.content.decode()
    confirm(client, preview_path)

    assert snapshot(school_a.tenant) == after_first


def test_invitations_are_emailed_once_and_the_class_is_joined_on_accepting(
    school_a, django_capture_on_commit_callbacks
):
    client = client_for(school_a.owner, school_a.host)
    content = (
        "email,first_name,last_name,role,class\r\n"
        "invited.student@example.org,Ivy,Student,student,Choir\r\n"
        f"{school_a.student.email},Known,Student,student,Choir\r\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, upload(client, "r.csv", content, sign_in="invitation"))
    sent = [m for m in mail.outbox if "invited.student@example.org" in m.to]
    assert len(sent) == 1
    assert not Membership.objects.filter(user__email="invited.student@example.org").exists()
    with tenant_context(school_a.tenant):
        assert list(Classroom.objects.get(name="Choir").students.all()) == [school_a.student]

    # The same file again: no second invitation, nothing else.
    before = snapshot(school_a.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        preview_path = upload(client, "r.csv", content, sign_in="invitation")
        assert not client.get(preview_path).context["preview"].changes_anything
        confirm(client, preview_path)
    assert snapshot(school_a.tenant) == before
    assert len([m for m in mail.outbox if "invited.student@example.org" in m.to]) == 1

    link = urlsplit(re.search(r"https?://\S+/invitations/\S+/", sent[0].body).group(0))
    browser = Client(HTTP_HOST=link.hostname)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(link.path, {"full_name": "Ivy Student", "password": PASSWORD})
    assert response.status_code == 302
    ivy = User.objects.get(email="invited.student@example.org")
    with tenant_context(school_a.tenant):
        assert ivy in Classroom.objects.get(name="Choir").students.all()
        assert RosterPerson.objects.get(email=ivy.email).user == ivy


# --- Plan limits --------------------------------------------------------------------------


def test_a_plan_limit_shows_in_the_preview_and_refuses_the_import(school_a):
    # The free plan takes 3 students; the school has 2.
    client = client_for(school_a.owner, school_a.host)
    before = snapshot(school_a.tenant)
    preview_path = upload(client, "r.csv", simple_csv(4, domain="limit.example.org"))

    page = client.get(preview_path)

    message = page.context["preview"].limit_message
    assert message == (
        "This file adds 3 students; the Free plan takes 3 and School A has 2. Nothing can be "
        "imported until the owner upgrades or the file has at most 1 new students."
    )
    assert "Nothing can be imported over the plan's limit." in page.content.decode()
    refused = client.post(preview_path + "import/", follow=True)
    assert "This file adds 3 students" in refused.content.decode()
    assert snapshot(school_a.tenant) == before
    # Invitations are checked as each is accepted: the preview says how many can.
    for rows, students in ((3, 2), (6, 5)):  # the first row of each file is a teacher
        csv = simple_csv(rows, domain="inv.example.org")
        path = upload(client, "r.csv", csv, sign_in="invitation")
        assert client.get(path).context["preview"].limit_message == (
            f"This file invites {students} students; the Free plan takes 3 and School A has 2: "
            "only 1 will be able to accept until the owner upgrades."
        )


# --- Who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "student"])
def test_teachers_and_students_cannot_import_or_preview(school_a, who):
    owner = client_for(school_a.owner, school_a.host)
    preview_path = upload(owner, "r.csv", simple_csv(3))
    client = client_for(getattr(school_a, who), school_a.host)
    for method, path in [
        ("get", "/manage/roster/"),
        ("post", "/manage/roster/"),
        ("get", "/manage/roster/template.csv"),
        ("get", preview_path),
        ("post", preview_path + "import/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 403, (method, path)
    assert RosterImport.objects.get().status == "previewed"


def test_another_schools_admin_cannot_see_or_confirm_the_preview(school_a, school_b):
    preview_path = upload(client_for(school_a.owner, school_a.host), "r.csv", simple_csv(3))
    outsider = client_for(school_b.owner, school_a.host)
    assert outsider.get(preview_path).status_code == 403
    assert outsider.post(preview_path + "import/").status_code == 403
    # On their own school's host the upload does not exist (another schema).
    own = client_for(school_b.owner, school_b.host)
    assert own.get(preview_path).status_code == 404
    assert own.post(preview_path + "import/").status_code == 404
    with tenant_context(school_a.tenant):
        assert RosterImport.objects.get().status == "previewed"


def test_the_template_downloads_as_csv(school_a):
    response = client_for(school_a.owner, school_a.host).get("/manage/roster/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("email,first_name,last_name,role,class\r\n")


# --- Query counts -------------------------------------------------------------------------


def test_the_preview_reads_in_bulk_whatever_the_files_length(school_a):
    school_plan(school_a.tenant)
    client = client_for(school_a.owner, school_a.host)
    small = upload(client, "r.csv", simple_csv(10, classes=3))
    large = upload(client, "r.csv", simple_csv(400, classes=30))
    client.get(small)  # warm the session and page chrome

    counts = []
    for path in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert counts[1] <= 25


def test_oneroster_files_uploaded_without_their_zip_are_read_too(school_a):
    school_plan(school_a.tenant)
    archive = zipfile.ZipFile(io.BytesIO(oneroster_zip(4, classes=2)))
    files = [
        _file(info.filename.rsplit("/", 1)[-1], archive.read(info))
        for info in archive.infolist()
        if info.filename.endswith(("users.csv", "classes.csv", "enrollments.csv"))
    ]
    client = client_for(school_a.owner, school_a.host)
    response = client.post("/manage/roster/", {"sign_in": "sso", "files": files})
    assert response.status_code == 302

    preview = client.get(response["Location"]).context["preview"]

    assert preview.layout == "oneroster" and preview.errors == []
    assert preview.counts["people_created"] == 5 and preview.counts["classes_created"] == 2
    assert preview.counts["enrolments_created"] == 4
