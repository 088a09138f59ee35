"""A member's deletion against real storage (a folder, and moto's S3 server): their replies and
recordings go from the rows and from storage, their comments are kept anonymised or deleted as
the school's policy says, their account goes when it belongs to no other tenant, and the
school's other data is untouched."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import models
from django_tenants.utils import tenant_context

from analytics.models import MemberProgress, Notification
from learning.models import Comment, Exercise, MediaFile, Reply
from tenants.models import AuditEvent, CommentsOnDeletion, Membership, Role, User
from tests.conftest import client_for, token_client_for
from tests.support.deletion import Content, fill
from tests.support.factories import CommentFactory, ExerciseFactory, ReplyFactory


@dataclass
class Scene:
    leaving: Content  # the student who leaves: their reply and the comments on it
    staying: Content  # another student's reply, and the teacher's exercise
    own_comment_id: int  # the leaving student's comment on the other student's reply
    answer_id: int  # the teacher's answer to that comment


@pytest.fixture
def scene(school_a, real_storage, tmp_path) -> Scene:
    tenant = school_a.tenant
    leaving = fill(tenant, teacher=school_a.teacher, students=[school_a.student], tmp_path=tmp_path)
    staying = fill(
        tenant, teacher=school_a.teacher, students=[school_a.other_student], tmp_path=tmp_path
    )
    with tenant_context(tenant):
        others_reply = Reply.objects.get(pk=staying.reply_ids[0])
        own = CommentFactory(reply=others_reply, author=school_a.student, body="Nice vibrato!")
        answer = CommentFactory(reply=others_reply, author=school_a.teacher, parent=own)
        # update_or_create: a browser test's live server may have committed the student's
        # progress row already (their activity there), and there is one row per member.
        MemberProgress.objects.update_or_create(
            user=school_a.student, defaults={"role": "student", "streak_days": 3}
        )
        Notification.objects.create(
            recipient=school_a.student, kind="feedback_received", title="Feedback", dedupe_key="x"
        )
    return Scene(leaving=leaving, staying=staying, own_comment_id=own.pk, answer_id=answer.pk)


def _snapshot(tenant) -> dict[str, set[int]]:
    with tenant_context(tenant):
        return {
            "exercises": set(Exercise.objects.values_list("pk", flat=True)),
            "replies": set(Reply.objects.values_list("pk", flat=True)),
            "comments": set(Comment.objects.values_list("pk", flat=True)),
            "media": set(MediaFile.objects.values_list("pk", flat=True)),
        }


def _expected_after(before, scene: Scene, *, comments_deleted: bool) -> dict[str, set[int]]:
    # The leaving student's reply goes with its recording and every comment on it; exercises
    # (the demonstration included) and the other student's work stay.
    gone_comments = set(scene.leaving.comment_ids) | (
        {scene.own_comment_id} if comments_deleted else set()
    )
    return {
        "exercises": before["exercises"],
        "replies": before["replies"] - set(scene.leaving.reply_ids),
        "comments": before["comments"] - gone_comments,
        "media": before["media"] - set(scene.leaving.media_ids[1:]),
    }


def _stored(real_storage, keys: list[str]) -> set[str]:
    found = set()
    for key in keys:
        found |= set(real_storage.keys(key))
    return found


def test_a_member_deletes_their_own_data_and_comments_stay_anonymised(
    school_a, scene, real_storage, django_capture_on_commit_callbacks
):
    tenant = school_a.tenant
    assert tenant.member_comments_on_deletion == CommentsOnDeletion.ANONYMISE
    before = _snapshot(tenant)
    client = client_for(school_a.student, school_a.host)
    page = client.get("/me/delete/")
    assert "kept without your name" in page.content.decode()
    # The wrong address changes nothing.
    assert client.post("/me/delete/", {"confirmation": "someone@else"}).status_code == 400
    assert Membership.objects.filter(user=school_a.student, tenant=tenant).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/me/delete/", {"confirmation": school_a.student.email.upper()})
    assert done.status_code == 200 and "account is deleted too" in done.content.decode()

    assert _snapshot(tenant) == _expected_after(before, scene, comments_deleted=False)
    leaving_recording = scene.leaving.keys[2:]  # [0:2] are the exercise's demonstration
    assert _stored(real_storage, leaving_recording) == set()
    assert _stored(real_storage, scene.staying.keys) == set(scene.staying.keys)
    assert _stored(real_storage, scene.leaving.keys[:2]) == set(scene.leaving.keys[:2])
    with tenant_context(tenant):
        own = Comment.objects.get(pk=scene.own_comment_id)
        assert own.author_id is None and own.body == "Nice vibrato!"
        assert Comment.objects.get(pk=scene.answer_id).parent_id == own.pk
        assert not MemberProgress.objects.filter(user_id=school_a.student.pk).exists()
        assert not Notification.objects.filter(recipient_id=school_a.student.pk).exists()
        others_reply = Reply.objects.get(pk=scene.staying.reply_ids[0]).public_id
    # The compare page's API shows the kept comment without a name.
    thread = token_client_for(school_a.teacher, school_a.host).get(
        f"/api/v1/replies/{others_reply}/comments/"
    )
    assert thread.status_code == 200
    authors = [c["author"] for c in thread.json() if c["body"] == "Nice vibrato!"]
    assert authors == [{"public_id": None, "display_name": "Former member"}]
    # Their membership and account are gone, and both are recorded.
    assert not User.objects.filter(pk=school_a.student.pk).exists()
    deleted = AuditEvent.objects.get(tenant=tenant, action="member.deleted")
    assert deleted.data["by_self"] is True and deleted.data["counts"]["replies"] == 1
    assert AuditEvent.objects.filter(
        action="account.deleted", data__user=str(school_a.student.public_id)
    ).exists()


def test_an_admin_deletes_a_member_and_the_policy_deletes_their_comments(
    school_a, scene, real_storage, django_capture_on_commit_callbacks
):
    tenant = school_a.tenant
    tenant.member_comments_on_deletion = CommentsOnDeletion.DELETE
    tenant.save(update_fields=["member_comments_on_deletion"])
    before = _snapshot(tenant)
    api = token_client_for(school_a.owner, school_a.host)
    member_id = Membership.objects.get(user=school_a.student, tenant=tenant).public_id
    wrong = api.post(
        f"/api/v1/members/{member_id}/deletion/",
        {"confirmation": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "confirmation_mismatch"

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/members/{member_id}/deletion/",
            {"confirmation": school_a.student.email},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    counts = response.json()["counts"]
    assert counts["replies"] == 1 and counts["comments"] == 1 and counts["account"] == 1

    assert _snapshot(tenant) == _expected_after(before, scene, comments_deleted=True)
    assert _stored(real_storage, scene.leaving.keys[2:]) == set()
    assert _stored(real_storage, scene.staying.keys) == set(scene.staying.keys)
    with tenant_context(tenant):
        # The teacher's answer to the deleted comment stays, at the top of the thread.
        assert Comment.objects.get(pk=scene.answer_id).parent_id is None
    event = AuditEvent.objects.get(tenant=tenant, action="member.deleted")
    assert event.actor == school_a.owner and event.data["comments"] == "delete"


def test_the_account_stays_while_it_belongs_to_another_tenant(
    school_a, school_b, scene, django_capture_on_commit_callbacks
):
    Membership.objects.create(user=school_a.student, tenant=school_b.tenant, role=Role.STUDENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client_for(school_a.student, school_a.host).post(
            "/api/v1/members/me/deletion/",
            {"confirmation": school_a.student.email},
            content_type="application/json",
        )
    assert response.status_code == 200 and response.json()["counts"]["account"] == 0
    assert User.objects.filter(pk=school_a.student.pk).exists()
    assert Membership.objects.filter(user=school_a.student, tenant=school_b.tenant).exists()
    assert not Membership.objects.filter(user=school_a.student, tenant=school_a.tenant).exists()


def test_who_may_delete_whom(school_a, school_b, scene):
    tenant = school_a.tenant
    other = Membership.objects.get(user=school_a.other_student, tenant=tenant).public_id
    body = {"confirmation": school_a.other_student.email}
    # A student cannot delete another member; a teacher neither.
    for user in (school_a.student, school_a.teacher):
        response = token_client_for(user, school_a.host).post(
            f"/api/v1/members/{other}/deletion/", body, content_type="application/json"
        )
        assert response.status_code == 403
    # School B's owner cannot reach school A's members, on either host.
    assert (
        token_client_for(school_b.owner, school_a.host)
        .post(f"/api/v1/members/{other}/deletion/", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        token_client_for(school_b.owner, school_b.host)
        .post(f"/api/v1/members/{other}/deletion/", body, content_type="application/json")
        .status_code
        == 404
    )
    # The last owner cannot delete themselves.
    last = token_client_for(school_a.owner, school_a.host).post(
        "/api/v1/members/me/deletion/",
        {"confirmation": school_a.owner.email},
        content_type="application/json",
    )
    assert last.status_code == 400 and last.json()["code"] == "last_owner"
    assert Membership.objects.filter(tenant=tenant).count() == 4


def test_an_account_still_named_in_another_schema_stays(
    school_a, school_b, scene, django_capture_on_commit_callbacks
):
    # The student once belonged to school B and was removed without deletion: a reply of theirs
    # is still there, so their account must stay (and school B's data with it).
    with tenant_context(school_b.tenant):
        kept = ReplyFactory(
            exercise=ExerciseFactory(created_by=school_b.teacher), student=school_a.student
        ).pk
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client_for(school_a.student, school_a.host).post(
            "/api/v1/members/me/deletion/",
            {"confirmation": school_a.student.email},
            content_type="application/json",
        )
    assert response.status_code == 200 and response.json()["counts"]["account"] == 0
    assert User.objects.filter(pk=school_a.student.pk).exists()
    with tenant_context(school_b.tenant):
        assert Reply.objects.filter(pk=kept).exists()
    # The deletion in school A went through all the same, and the transaction is healthy.
    assert not Membership.objects.filter(user=school_a.student, tenant=school_a.tenant).exists()
    assert AuditEvent.objects.filter(tenant=school_a.tenant, action="member.deleted").exists()


def _rows_naming(user_id: int) -> dict[str, int]:
    """Every row of the current tenant's schema that points at this account, by model and
    field (foreign keys and many-to-many links alike)."""
    from django.apps import apps
    from django.conf import settings

    found = {}
    for model in apps.get_models(include_auto_created=True):
        if apps.get_app_config(model._meta.app_label).name not in settings.TENANT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if (
                isinstance(field, models.ForeignKey)
                and field.related_model is User
                and (count := model._base_manager.filter(**{field.attname: user_id}).count())
            ):
                found[f"{model._meta.label}.{field.name}"] = count
    return found


def test_a_departing_teacher_leaves_no_row_or_export_that_names_them(
    school_a, scene, real_storage, django_capture_on_commit_callbacks
):
    # A teacher who taught a class, wrote a rubric and scored with it, was assigned a reply,
    # imported a roster, came through an LMS and asked for an export: none of it may keep
    # their account (or their export's ZIP) alive once they are deleted.
    tenant, teacher = school_a.tenant, school_a.teacher
    with tenant_context(tenant):
        from learning import storage
        from learning.exports.services import export_key
        from learning.models import (
            Classroom,
            Export,
            LtiIdentity,
            RosterImport,
            RosterPerson,
            Rubric,
            RubricCriterion,
            RubricLevel,
            RubricScore,
        )

        classroom = Classroom.objects.create(name="Strings", created_by=teacher)
        classroom.teachers.add(teacher, school_a.owner)
        classroom.students.add(school_a.other_student)
        others_reply = Reply.objects.get(pk=scene.staying.reply_ids[0])
        others_reply.assigned_to = teacher
        others_reply.save(update_fields=["assigned_to"])
        rubric = Rubric.objects.create(title="Tone", is_template=True, created_by=teacher)
        criterion = RubricCriterion.objects.create(rubric=rubric, position=0, title="Tone")
        level = RubricLevel.objects.create(criterion=criterion, position=0, title="Ok", points=1)
        score = RubricScore.objects.create(
            reply=others_reply, criterion=criterion, level=level, scored_by=teacher
        )
        RosterImport.objects.create(
            uploaded_by=teacher, file_names="roster.csv", files={}, sign_in="invitation"
        )
        RosterPerson.objects.create(email=teacher.email, user=teacher, sign_in="invitation")
        LtiIdentity.objects.create(issuer="https://lms.example", sub="t-1", user=teacher)
        export = Export.objects.create(
            scope=Export.Scope.PERSONAL, requested_by=teacher, state=Export.State.READY
        )
        export.key = export_key(export)
        export.save(update_fields=["key"])
        with storage.open_write(key=export.key, content_type="application/zip") as stream:
            stream.write(b"PK zip of the teacher's own data")
        assert real_storage.keys(export.key) == [export.key]
    before = _snapshot(tenant)
    member_id = Membership.objects.get(user=teacher, tenant=tenant).public_id

    with django_capture_on_commit_callbacks(execute=True):
        response = token_client_for(school_a.owner, school_a.host).post(
            f"/api/v1/members/{member_id}/deletion/",
            {"confirmation": teacher.email},
            content_type="application/json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["counts"]["account"] == 1
    assert not User.objects.filter(pk=teacher.pk).exists()
    assert real_storage.keys(export.key) == []
    with tenant_context(tenant):
        assert _rows_naming(teacher.pk) == {}
        # The school's material and everyone else's work stay.
        classroom.refresh_from_db()
        assert set(classroom.teachers.values_list("pk", flat=True)) == {school_a.owner.pk}
        assert list(classroom.students.values_list("pk", flat=True)) == [school_a.other_student.pk]
        assert Rubric.objects.filter(pk=rubric.pk, created_by=None).exists()
        assert RubricScore.objects.filter(pk=score.pk, scored_by=None).exists()
        assert Reply.objects.filter(pk=others_reply.pk, assigned_to=None).exists()
        assert Exercise.objects.filter(created_by=school_a.owner).count() == 2
    # Their comments stay without an author (the policy's default); nothing else went.
    assert _snapshot(tenant) == before
