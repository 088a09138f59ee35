"""Exports (issue 17): a school's whole data for its owner and admins, a member's own data for
anyone. The ZIP is written by the real task code into real storage (local files here, moto's
S3 server in the S3 test) and read back; permissions are checked through the API and pages."""

from __future__ import annotations

import csv
import gc
import io
import json
import re
import sys
import time
import zipfile

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail, signing
from django.test import TestCase

from learning.exports import services, tasks
from learning.exports.sections import Scope, sections_for
from learning.models import Export, MediaFile
from tenants.models import AuditEvent, Membership, Role
from tests.conftest import client_for, member, token_client_for
from tests.learning.test_storage_s3 import moto_endpoint, s3  # noqa: F401 - fixtures
from tests.support.export_content import archive_of, make_content

pytestmark = pytest.mark.django_db

INVITEE = "invited-to-export@example.com"


@pytest.fixture
def queued(monkeypatch):
    """The ids the request would hand to Celery (the test runs the task's work itself); the
    email task runs at once, in the tenant's schema like a worker would."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.build_export, "delay", lambda export_id: ids.append(export_id))
    monkeypatch.setattr(
        tasks.email_export_ready, "delay", lambda export_id: tasks.email_export_ready(export_id)
    )
    return ids


def _ask(client, scope: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/api/v1/exports/", {"scope": scope}, content_type="application/json")


def _build(school, in_tenant, export_id: int) -> Export:
    with in_tenant(school.tenant), TestCase.captureOnCommitCallbacks(execute=True):
        return services.export_build(export_id=export_id)


def _rows(archive: zipfile.ZipFile, table: str) -> list[dict]:
    rows = json.loads(archive.read(f"data/{table}.json"))
    as_csv = list(csv.DictReader(io.StringIO(archive.read(f"data/{table}.csv").decode())))
    assert len(as_csv) == len(rows), table
    for from_json, from_csv in zip(rows, as_csv, strict=True):
        assert set(from_csv) == set(from_json)
        for name, value in from_json.items():
            if value is None:
                expected = ""
            elif isinstance(value, dict | list):
                expected = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
                expected = "'" + value
            else:
                expected = str(value)
            assert from_csv[name] == expected, (table, name)
    return rows


def _media_paths(archive: zipfile.ZipFile) -> set[str]:
    return {name for name in archive.namelist() if name.startswith("media/")}


def test_a_tenant_export_holds_every_record_and_every_file(school_a, in_tenant, queued):
    with in_tenant(school_a.tenant):
        content = make_content(school_a)
    from tenants import services as tenant_services

    tenant_services.invitation_create(
        tenant=school_a.tenant, email=INVITEE, role=Role.TEACHER, actor=school_a.owner
    )
    answer = _ask(client_for(school_a.owner, school_a.host), "tenant")
    assert answer.status_code == 202, answer.content
    assert answer.json()["state"] == "queued"
    [export_id] = queued

    export = _build(school_a, in_tenant, export_id)

    assert export.state == Export.State.READY and export.progress == 100
    with in_tenant(school_a.tenant):
        archive = archive_of(export)
    names = archive.namelist()
    assert len(names) == len(set(names))
    # Streamed: every entry is followed by a data descriptor (the stream was never seeked).
    assert all(info.flag_bits & 0x08 for info in archive.infolist())
    assert archive.testzip() is None
    tag = content.texts["tag"]

    members = _rows(archive, "members")
    emails = {m["email"] for m in members}
    assert {school_a.owner.email, school_a.teacher.email, school_a.student.email} <= emails
    assert len(members) == Membership.objects.filter(tenant=school_a.tenant).count()
    assert content.texts["class"] in {c["name"] for c in _rows(archive, "classes")}
    assert {school_a.student.email} <= {
        r["student_email"] for r in _rows(archive, "class_students")
    }
    exercises = {e["public_id"]: e for e in _rows(archive, "exercises")}
    assert exercises[str(content.exercise.public_id)]["instructions"] == f"Slowly, {tag}"
    replies = {r["public_id"]: r for r in _rows(archive, "replies")}
    for reply in content.replies:
        assert replies[str(reply.public_id)]["note"] == reply.note
        assert replies[str(reply.public_id)]["media_public_id"] == str(reply.media.public_id)
    comments = _rows(archive, "comments")
    assert {c.body for c in content.comments} <= {c["body"] for c in comments}
    # A comment written like a spreadsheet formula stays text in the CSV.
    [formula] = [c for c in comments if c["body"].startswith("=")]
    assert formula["body"] == content.texts["formula"]
    assert f",'{content.texts['formula']}," in archive.read("data/comments.csv").decode()
    assert {f"reason 1 {tag}", f"reason 2 {tag}"} <= {
        a["reason"] for a in _rows(archive, "alignments")
    }
    scores = [s for s in _rows(archive, "rubric_scores") if s["note"].endswith(tag)]
    assert {(s["note"], s["level_title"], s["points"]) for s in scores} == {
        (f"scored {n} {tag}", f"Singing {tag}", "2.50") for n in (1, 2)
    }
    assert f"Rubric {tag}" in {level["rubric_title"] for level in _rows(archive, "rubric_levels")}
    assert {f"notified 1 {tag}", f"notified 2 {tag}"} <= {
        n["title"] for n in _rows(archive, "notifications")
    }
    practice = [a for a in _rows(archive, "activity") if a["kind"] == "practice"]
    assert {p["data"]["tag"] for p in practice} == {tag}
    assert {d["user_email"] for d in _rows(archive, "practice_daily")} >= {
        school_a.student.email,
        school_a.other_student.email,
    }
    invited = _rows(archive, "invitations")
    assert INVITEE in {i["email"] for i in invited} and "token" not in invited[0]
    assert "export.requested" in {a["action"] for a in _rows(archive, "audit_events")}
    assert content.texts["invoice"] in {i["number"] for i in _rows(archive, "invoices")}
    assert [s["quantity"] for s in _rows(archive, "subscriptions")] == [2]
    assert [c["mrr_cents"] for c in _rows(archive, "subscription_changes")] == [1000]
    assert [c["ends_on"] for c in _rows(archive, "classes") if c["name"] == content.texts["class"]]
    assert {school_a.teacher.email} <= {
        t["teacher_email"] for t in _rows(archive, "class_teachers")
    }
    assert f"Course {tag}" in {c["title"] for c in _rows(archive, "courses")}
    assert f"Unit {tag}" in {u["title"] for u in _rows(archive, "course_units")}
    assert str(content.exercise.public_id) in {
        i["exercise_public_id"] for i in _rows(archive, "course_items")
    }
    assert str(content.replies[0].public_id) in {
        r["reply_public_id"] for r in _rows(archive, "peer_reviews")
    }
    # Every row of every table the export carries from the tenant's schema: all of them.
    with in_tenant(school_a.tenant):
        scope = Scope(tenant=school_a.tenant, user=school_a.owner, personal=False)
        for section in sections_for(scope):
            model = section.query().model
            if apps.get_app_config(model._meta.app_label).name in settings.TENANT_APPS:
                assert len(_rows(archive, section.name)) == model._base_manager.count(), (
                    section.name
                )

    # Every stored file of every recording, byte for byte; the original named by its type.
    expected = {}
    for media in content.media:
        prefix = f"media/{media.public_id}/"
        expected[prefix + "original.mp4"] = content.files[media.source_key]
        expected[prefix + "720p.mp4"] = content.files[media.renditions["720p"]]
        expected[prefix + "poster.jpg"] = content.files[media.poster_key]
    assert _media_paths(archive) == set(expected)
    for name, data in expected.items():
        assert archive.read(name) == data, name
    assert export.files == len(expected)

    # The offline pages: the exercise's demonstration and both replies, with relative paths
    # that exist in the archive.
    index = archive.read("index.html").decode()
    page_path = f"exercises/{content.exercise.public_id}.html"
    assert f'href="{page_path}"' in index
    page = archive.read(page_path).decode()
    sources = re.findall(r'<video[^>]* src="\.\./([^"]+)"', page)
    assert set(sources) == {f"media/{m.public_id}/720p.mp4" for m in content.media}
    assert all(source in names for source in sources)
    assert all(c.body in page for c in content.comments)
    assert "http://" not in page and "https://" not in page
    readme = archive.read("README.txt").decode()
    assert "index.html" in readme and "replies" in readme

    # The audit trail and the email with its link.
    actions = list(
        AuditEvent.objects.filter(
            tenant=school_a.tenant, data__export=str(export.public_id)
        ).values_list("action", flat=True)
    )
    assert sorted(actions) == ["export.completed", "export.requested"]
    [email] = mail.outbox
    assert email.to == [school_a.owner.email]
    assert f"/exports/{export.public_id}/download/?token=" in email.body


def test_the_emailed_link_downloads_the_zip_for_its_requester(school_a, in_tenant, queued):
    with in_tenant(school_a.tenant):
        make_content(school_a)
    owner = client_for(school_a.owner, school_a.host)
    _ask(owner, "tenant")
    export = _build(school_a, in_tenant, queued[0])
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = link.split(school_a.host, 1)[1]

    answer = owner.get(path)

    assert answer.status_code == 302
    stored = owner.get(answer["Location"])
    assert stored.status_code == 200
    assert stored["Content-Type"] == "application/zip"
    assert stored["Content-Disposition"].startswith("attachment; filename=")
    data = b"".join(stored.streaming_content)
    assert len(data) == export.size_bytes
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert AuditEvent.objects.filter(
        tenant=school_a.tenant, action="export.downloaded", actor=school_a.owner
    ).exists()


def test_a_personal_export_holds_only_the_members_own_data(school_a, in_tenant, queued):
    with in_tenant(school_a.tenant):
        content = make_content(school_a)
    answer = _ask(client_for(school_a.student, school_a.host), "personal")
    assert answer.status_code == 202, answer.content
    export = _build(school_a, in_tenant, queued[0])
    with in_tenant(school_a.tenant):
        archive = archive_of(export)
    own_reply, other_reply = content.replies
    tag = content.texts["tag"]

    assert [r["public_id"] for r in _rows(archive, "replies")] == [str(own_reply.public_id)]
    assert {c["body"] for c in _rows(archive, "comments")} == {
        f"student 1 answers {tag}",
        content.texts["formula"],
    }
    assert [m["email"] for m in _rows(archive, "members")] == [school_a.student.email]
    assert {n["title"] for n in _rows(archive, "notifications")} == {f"notified 1 {tag}"}
    assert {a["actor_email"] for a in _rows(archive, "activity")} == {school_a.student.email}
    assert _rows(archive, "classes") == [] and _rows(archive, "invoices") == []
    assert _rows(archive, "invitations") == [] and _rows(archive, "audit_events") == []
    assert {r["reason"] for r in _rows(archive, "alignments")} == {f"reason 1 {tag}"}
    assert [s["note"] for s in _rows(archive, "rubric_scores")] == [f"scored 1 {tag}"]
    assert _rows(archive, "rubric_levels") == []
    # Their own recording only: not the teacher's demonstration, not the other student's.
    assert {p.split("/")[1] for p in _media_paths(archive)} == {str(own_reply.media.public_id)}
    text = "\n".join(
        archive.read(n).decode() for n in archive.namelist() if not n.startswith("media/")
    )
    assert school_a.other_student.email not in text
    assert other_reply.note not in text and f"student 2 answers {tag}" not in text
    assert f"teacher on 1 {tag}" not in text


def test_the_same_export_works_on_s3(school_a, in_tenant, queued, s3):  # noqa: F811
    with in_tenant(school_a.tenant):
        content = make_content(school_a)
    _ask(client_for(school_a.owner, school_a.host), "tenant")

    export = _build(school_a, in_tenant, queued[0])

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="practika-test-media")["Contents"]]
    assert export.key in keys
    assert export.key.startswith(f"tenants/{school_a.tenant.public_id}/exports/")
    with in_tenant(school_a.tenant):
        archive = archive_of(export)
    reply = content.replies[0]
    assert (
        archive.read(f"media/{reply.media.public_id}/720p.mp4")
        == content.files[reply.media.renditions["720p"]]
    )
    assert str(reply.public_id) in {r["public_id"] for r in _rows(archive, "replies")}
    assert not s3.list_multipart_uploads(Bucket="practika-test-media").get("Uploads")
    with in_tenant(school_a.tenant):
        url = services.export_download_url(
            member=member(school_a.owner, school_a.tenant),
            export=export,
            token=services.download_token(export),
        )
    assert "response-content-disposition=attachment" in url


def test_a_failed_write_leaves_no_object_and_says_so(school_a, in_tenant, queued, monkeypatch):
    from learning.exports import archive as archive_module

    with in_tenant(school_a.tenant):
        make_content(school_a)
    _ask(client_for(school_a.owner, school_a.host), "tenant")

    def broken(self, name, *, key, size):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archive_module.ArchiveWriter, "stored_file", broken)
    with in_tenant(school_a.tenant):
        result = tasks.build_export.apply(args=[queued[0]]).get()
        export = Export.objects.get(pk=queued[0])
        from learning import storage

        leftovers = [
            o.key
            for o in storage.list_objects(prefix=storage.tenant_prefix())
            if str(export.public_id) in o.key or "/.incoming/" in o.key
        ]
    assert result == "failed"
    assert export.state == Export.State.FAILED and "went wrong" in export.error_message
    assert leftovers == []


def test_an_archive_left_by_an_error_writes_nothing_more(monkeypatch):
    from learning.exports.archive import ArchiveWriter

    ignored = []  # errors in finalizers: a collected ZipFile writing to a closed stream
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    stream = io.BytesIO()
    with pytest.raises(RuntimeError, match="storage lost"), ArchiveWriter(stream) as archive:
        archive.text("README.txt", "hello")
        raise RuntimeError("storage lost")
    written = stream.getvalue()
    stream.close()
    del archive
    gc.collect()

    assert ignored == []
    assert written.startswith(b"PK\x03\x04") and b"PK\x05\x06" not in written  # no end record


# --- Who may ask, see and download ----------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_teachers_and_students_cannot_export_the_school(school_a, role, queued):
    user = getattr(school_a, role)
    answer = _ask(token_client_for(user, school_a.host), "tenant")
    assert answer.status_code == 403
    assert answer.json()["code"] == "export_forbidden"
    page = client_for(user, school_a.host)
    assert page.get("/manage/export/").status_code == 403
    assert page.post("/manage/export/").status_code == 403
    assert queued == [] and not Export.objects.exists()


def test_a_bad_scope_is_refused_in_the_api_shape(school_a, queued):
    answer = _ask(client_for(school_a.owner, school_a.host), "everything")
    assert answer.status_code == 400
    assert set(answer.json()) >= {"code", "message"}


def test_asking_twice_while_writing_queues_once(school_a, queued):
    owner = client_for(school_a.owner, school_a.host)
    first, second = _ask(owner, "tenant").json(), _ask(owner, "tenant").json()
    assert first["id"] == second["id"] and len(queued) == 1


def _ready_export(school, in_tenant, queued, user) -> Export:
    scope = "tenant" if user == school.owner else "personal"
    _ask(client_for(user, school.host), scope)
    return _build(school, in_tenant, queued[-1])


def test_only_the_requester_sees_or_downloads_an_export(school_a, in_tenant, queued):
    export = _ready_export(school_a, in_tenant, queued, school_a.owner)
    with in_tenant(school_a.tenant):
        path = services.download_link(export).split(school_a.host, 1)[1]
    # Another admin of the same school, with the owner's own link.
    admin = school_a.teacher
    Membership.objects.filter(user=admin, tenant=school_a.tenant).update(role=Role.ADMIN)
    other = client_for(admin, school_a.host)
    assert other.get(path).status_code == 404
    assert other.get(f"/api/v1/exports/{export.public_id}/").json()["code"] == "export_not_found"
    assert other.get("/api/v1/exports/").json()["results"] == []
    anonymous = client_for(None, school_a.host)
    assert anonymous.get(path).status_code == 302  # to the login page
    assert "/accounts/login/" in anonymous.get(path)["Location"]


def test_a_member_of_another_school_cannot_download(school_a, school_b, in_tenant, queued):
    export = _ready_export(school_a, in_tenant, queued, school_a.owner)
    with in_tenant(school_a.tenant):
        path = services.download_link(export).split(school_a.host, 1)[1]
    outsider = client_for(school_b.owner, school_a.host)
    answer = outsider.get(path)
    assert answer.status_code in (302, 403, 404)
    assert "media-signed" not in answer.get("Location", "")
    # On their own school's host the export (and its tenant-bound link) do not exist.
    assert client_for(school_b.owner, school_b.host).get(path).status_code == 404


def test_an_expired_link_is_refused(school_a, in_tenant, queued, settings, monkeypatch):
    export = _ready_export(school_a, in_tenant, queued, school_a.owner)
    now = time.time()
    monkeypatch.setattr(
        signing.time, "time", lambda: now - settings.PRACTIKA_EXPORT_LINK_SECONDS - 5
    )
    with in_tenant(school_a.tenant):
        stale = services.download_link(export).split(school_a.host, 1)[1]
    monkeypatch.setattr(signing.time, "time", lambda: now)
    owner = client_for(school_a.owner, school_a.host)

    page = owner.get(stale)
    api = owner.get(stale.replace("/exports/", "/api/v1/exports/", 1))

    assert page.status_code == 410 and b"expired" in page.content
    assert api.status_code == 410 and api.json()["code"] == "link_expired"
    forged = owner.get(stale.split("?token=")[0] + "?token=forged")
    assert forged.status_code == 410


def test_an_owner_demoted_since_cannot_download_the_school(school_a, in_tenant, queued):
    # An admin asks; then the owner makes them a teacher: their link no longer works.
    Membership.objects.filter(user=school_a.teacher, tenant=school_a.tenant).update(role=Role.ADMIN)
    _ask(client_for(school_a.teacher, school_a.host), "tenant")
    export = _build(school_a, in_tenant, queued[0])
    from tenants import services as tenant_services

    tenant_services.membership_change_role(
        membership=member(school_a.teacher, school_a.tenant),
        role=Role.TEACHER,
        actor=school_a.owner,
    )
    with in_tenant(school_a.tenant):
        path = services.download_link(export).split(school_a.host, 1)[1]
    assert client_for(school_a.teacher, school_a.host).get(path).status_code == 403


def test_the_page_shows_progress_and_then_the_download(school_a, in_tenant, queued):
    owner = client_for(school_a.owner, school_a.host)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert owner.post("/manage/export/").status_code == 302
    with in_tenant(school_a.tenant):
        Export.objects.filter(pk=queued[0]).update(state=Export.State.RUNNING, progress=42)
    page = owner.get("/manage/export/").content.decode()
    assert 'value="42"' in page and "42%" in page and "disabled" in page
    _build(school_a, in_tenant, queued[0])
    page = owner.get("/manage/export/").content.decode()
    assert "Download" in page and "/download/?token=" in page
    assert "My data" in owner.get("/my-data/").content.decode()


def test_media_of_an_unfinished_upload_is_left_out(school_a, in_tenant, queued):
    from learning import storage

    with in_tenant(school_a.tenant):
        content = make_content(school_a)
        media = content.replies[0].media
        upload_id = storage.multipart_start(
            key=f"{storage.media_prefix(media.public_id)}x", content_type="video/mp4"
        )
        assert upload_id
        MediaFile.objects.filter(pk=media.pk).update(state=MediaFile.State.READY)
    _ask(client_for(school_a.owner, school_a.host), "tenant")
    export = _build(school_a, in_tenant, queued[0])
    with in_tenant(school_a.tenant):
        names = archive_of(export).namelist()
    assert not [n for n in names if ".upload-" in n]


def test_exports_past_their_keeping_time_are_deleted(school_a, in_tenant, queued, settings):
    from datetime import timedelta

    from learning import storage

    export = _ready_export(school_a, in_tenant, queued, school_a.owner)
    key = export.key
    keep = timedelta(days=settings.PRACTIKA_EXPORT_KEEP_DAYS)
    with in_tenant(school_a.tenant):
        # A frozen clock: one second before the keeping time ends, then one second after.
        assert services.exports_expire(now=export.finished_at + keep - timedelta(seconds=1)) == 0
        assert storage.object_size(key) == export.size_bytes
        assert services.exports_expire(now=export.finished_at + keep + timedelta(seconds=1)) == 1
        assert storage.object_size(key) is None
        export.refresh_from_db()
        path = services.download_link(export).split(school_a.host, 1)[1]
    assert export.state == Export.State.EXPIRED and export.key == ""
    owner = client_for(school_a.owner, school_a.host)
    api = owner.get(path.replace("/exports/", "/api/v1/exports/", 1))
    assert api.status_code == 410 and api.json()["code"] == "export_expired"
    assert owner.get(path).status_code == 410


def test_the_export_list_and_page_cost_the_same_queries_for_one_or_many(
    school_a, in_tenant, queued
):
    from django.utils import timezone

    from tests.support.sql_count import count_statements

    owner = client_for(school_a.owner, school_a.host)

    def make(n: int) -> None:
        with in_tenant(school_a.tenant):
            Export.objects.bulk_create(
                [
                    Export(
                        scope=scope,
                        requested_by=school_a.owner,
                        state=Export.State.READY,
                        progress=100,
                        finished_at=timezone.now(),
                        key="tenants/x/exports/y.zip",
                    )
                    for scope in ["tenant", "personal"] * n
                ]
            )

    def cost() -> tuple[int, int]:
        owner.get("/api/v1/exports/")  # warm the caches (the page chrome, the session)
        owner.get("/manage/export/")
        with count_statements() as api:
            assert owner.get("/api/v1/exports/").status_code == 200
        with count_statements() as page:
            assert owner.get("/manage/export/").status_code == 200
        return len(api), len(page)

    make(1)
    few = cost()
    make(4)
    many = cost()
    assert many == few
    assert len(owner.get("/api/v1/exports/").json()["results"]) == 10


def test_a_streamed_write_to_s3_goes_up_in_parts_and_reads_back_whole(
    school_a,
    in_tenant,
    s3,  # noqa: F811
    monkeypatch,
):
    import hashlib
    import os

    from learning import storage
    from learning.storage import s3 as s3_backend

    monkeypatch.setattr(s3_backend, "WRITE_PART_BYTES", 5 * 1024 * 1024)  # S3's smallest part
    data = os.urandom(12 * 1024 * 1024 + 12345)
    with in_tenant(school_a.tenant):
        key = f"{storage.tenant_prefix()}exports/parts-test.zip"
        with storage.open_write(key=key, content_type="application/zip") as out:
            for start in range(0, len(data), 1_000_003):  # writes that straddle the parts
                out.write(data[start : start + 1_000_003])
            assert len(out.parts) == 2  # two full parts sent; the rest goes on commit
        digest = hashlib.sha256()
        with storage.open_read(key) as source:
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
        head = s3.head_object(Bucket="practika-test-media", Key=key)
        # Then an error inside the block leaves nothing, not even a pending upload.
        broken = f"{storage.tenant_prefix()}exports/broken.zip"
        with pytest.raises(RuntimeError), storage.open_write(key=broken, content_type="x") as out:
            out.write(data)
            raise RuntimeError("stop")
        assert storage.object_size(broken) is None
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    assert not s3.list_multipart_uploads(Bucket="practika-test-media").get("Uploads")


def test_a_recording_deleted_while_the_export_runs_is_left_out(
    school_a, in_tenant, queued, monkeypatch
):
    from learning import storage
    from learning.exports import services as export_services

    with in_tenant(school_a.tenant):
        content = make_content(school_a)
    gone = content.replies[1].media
    listed = export_services._media_entries

    def listed_then_deleted(scope):
        entries = listed(scope)
        # The student deletes their reply just after the export listed the stored files.
        storage.delete_prefix(prefix=storage.media_prefix(gone.public_id))
        return entries

    monkeypatch.setattr(export_services, "_media_entries", listed_then_deleted)
    _ask(client_for(school_a.owner, school_a.host), "tenant")
    export = _build(school_a, in_tenant, queued[0])

    assert export.state == Export.State.READY
    with in_tenant(school_a.tenant):
        archive = archive_of(export)
    folders = {p.split("/")[1] for p in _media_paths(archive)}
    assert str(gone.public_id) not in folders and str(content.demo.public_id) in folders
    page = archive.read(f"exercises/{content.exercise.public_id}.html").decode()
    assert str(gone.public_id) not in page
    assert "The recording is not stored" in page


def test_an_export_whose_requester_is_deleted_while_it_is_written_leaves_no_zip(
    school_a, in_tenant, queued, monkeypatch
):
    from learning import storage
    from learning.exports import services as export_services

    with in_tenant(school_a.tenant):
        make_content(school_a)
    _ask(client_for(school_a.student, school_a.host), "personal")
    [export_id] = queued
    with in_tenant(school_a.tenant):
        key = services.export_key(Export.objects.get(pk=export_id))
    pages = export_services._write_pages

    def written_then_requester_deleted(archive, **kwargs):
        # learning.deletion removes the member's exports while the task is still writing.
        Export.objects.filter(pk=export_id).delete()
        return pages(archive, **kwargs)

    monkeypatch.setattr(export_services, "_write_pages", written_then_requester_deleted)

    assert _build(school_a, in_tenant, export_id) is None

    with in_tenant(school_a.tenant):
        assert [o.key for o in storage.list_objects(prefix=key)] == []
    assert not mail.outbox
    assert not AuditEvent.objects.filter(action="export.completed").exists()


# What of a tenant's schema an export leaves out, and why; every other table must be exported.
NOT_EXPORTED = {
    "learning.Export": "the exports themselves",
    "learning.Rubric": "folded into rubric_levels (its title and exercise on each level)",
    "learning.RubricCriterion": "folded into rubric_levels",
    "learning.PeerComment": "a peer's comment is a row of comments",
    "learning.LtiRegistration": "an LMS connection: its keys are secrets, not school data",
    "learning.LtiContext": "the LMS's course ids, for the connection",
    "learning.LtiIdentity": "the LMS's ids of people, for signing in",
    "learning.LtiGradeTarget": "where the LMS takes grades, for the connection",
    "learning.RosterImport": "an uploaded roster file, kept between preview and import",
    "learning.RosterPerson": "the roster's ids of people, for the next import",
    "learning.RosterClass": "the roster's ids of classes, for the next import",
    "learning.CourseCopy": "a copy's progress to another school",
    "analytics.Milestone": "one-off product markers (the sample exercise was made)",
}


def test_every_table_of_the_tenant_is_exported_or_left_out_for_a_reason(school_a):
    scope = Scope(tenant=school_a.tenant, user=school_a.owner, personal=False)
    exported = {section.query().model._meta.label for section in sections_for(scope)}
    tables = {
        model._meta.label
        for name in settings.TENANT_APPS
        if name.split(".")[0] != "django"
        for model in apps.get_app_config(name.rsplit(".", 1)[-1]).get_models(
            include_auto_created=True
        )
    }
    assert tables - exported - set(NOT_EXPORTED) == set()
    assert exported & set(NOT_EXPORTED) == set()
