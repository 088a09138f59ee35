"""The core-loop API through HTTP on a tenant's host."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning.models import Comment, Exercise, MediaFile, Reply
from tests.conftest import client_for
from tests.support.factories import (
    CommentFactory,
    ExerciseFactory,
    MediaFileFactory,
    ReplyFactory,
)


def test_teacher_creates_publishes_and_student_replies_through_the_api(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)
    with tenant_context(school_a.tenant):
        demo = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        take = MediaFileFactory(owner=school_a.student)

    created = teacher.post(
        "/api/v1/exercises/",
        {
            "title": "Bach minuet",
            "instructions": "Bars 1-8",
            "demo": str(demo.public_id),
            "tags": ["Baroque"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    exercise_id = created.json()["public_id"]
    assert created.json()["status"] == "draft"
    assert student.get(f"/api/v1/exercises/{exercise_id}/").status_code == 404

    published = teacher.post(f"/api/v1/exercises/{exercise_id}/publish/")
    assert published.json()["status"] == "published"
    listed = student.get("/api/v1/exercises/").json()
    assert exercise_id in [e["public_id"] for e in listed["results"]]

    reply = student.post(
        "/api/v1/replies/",
        {"exercise": exercise_id, "media": str(take.public_id), "note": "first take"},
        content_type="application/json",
    )
    assert reply.status_code == 201, reply.content
    reply_id = reply.json()["public_id"]
    assert reply.json()["attempt"] == 1

    inbox = teacher.get("/api/v1/inbox/").json()["results"]
    assert reply_id in [r["public_id"] for r in inbox]
    comment = teacher.post(
        f"/api/v1/replies/{reply_id}/comments/",
        {"body": "Lovely phrasing <b>here</b>", "at_ms": 4200, "side": "reply"},
        content_type="application/json",
    )
    assert comment.status_code == 201
    assert (
        teacher.post(
            f"/api/v1/replies/{reply_id}/review/",
            {"status": "reviewed"},
            content_type="application/json",
        ).json()["status"]
        == "reviewed"
    )

    thread = student.get(f"/api/v1/replies/{reply_id}/comments/").json()
    assert [(c["at_ms"], c["body"]) for c in thread] == [(4200, "Lovely phrasing <b>here</b>")]


def test_errors_have_one_shape(school_a):
    student = client_for(school_a.student, school_a.host)
    response = student.post(
        "/api/v1/exercises/", {"title": "Mine"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json() == {"code": "teachers_only", "message": "Only teachers can do this."}
    missing = student.get("/api/v1/replies/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    invalid = client_for(school_a.teacher, school_a.host).post(
        "/api/v1/exercises/", {}, content_type="application/json"
    )
    assert invalid.status_code == 400 and "title" in invalid.json()["fields"]


def test_students_cannot_read_each_others_replies_or_comments(school_a):
    with tenant_context(school_a.tenant):
        theirs = ReplyFactory(student=school_a.other_student, exercise__created_by=school_a.teacher)
        comment = CommentFactory(reply=theirs, author=school_a.teacher)
    student = client_for(school_a.student, school_a.host)

    assert student.get(f"/api/v1/replies/{theirs.public_id}/").status_code == 404
    assert student.get(f"/api/v1/replies/{theirs.public_id}/comments/").status_code == 404
    listed_response = student.get("/api/v1/replies/")
    assert listed_response.status_code == 200
    listed = listed_response.json()["results"]
    assert str(theirs.public_id) not in [r["public_id"] for r in listed]
    assert student.delete(f"/api/v1/comments/{comment.public_id}/").status_code == 404


def test_only_the_author_edits_a_comment(school_a):
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(student=school_a.student, exercise__created_by=school_a.teacher)
        comment = CommentFactory(reply=reply, author=school_a.teacher)
    student = client_for(school_a.student, school_a.host)
    assert (
        student.patch(
            f"/api/v1/comments/{comment.public_id}/", {"body": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    teacher = client_for(school_a.teacher, school_a.host)
    assert (
        teacher.patch(
            f"/api/v1/comments/{comment.public_id}/",
            {"body": "Better"},
            content_type="application/json",
        ).json()["body"]
        == "Better"
    )
    with tenant_context(school_a.tenant):
        assert Comment.objects.get(pk=comment.pk).edited_at is not None


def _seed(school, n: int) -> None:
    with tenant_context(school.tenant):
        for _ in range(n):
            exercise = ExerciseFactory(created_by=school.teacher)
            reply = ReplyFactory(exercise=exercise, student=school.student)
            CommentFactory(reply=reply, author=school.teacher)


def _api_query_counts(school) -> dict[str, int]:
    counts = {}
    for user, path in [
        (school.teacher, "/api/v1/exercises/"),
        (school.student, "/api/v1/exercises/"),
        (school.teacher, "/api/v1/replies/"),
        (school.student, "/api/v1/replies/"),
        (school.teacher, "/api/v1/inbox/"),
    ]:
        client = client_for(user, school.host)
        client.get(path)  # the first request of a session also records the member's activity
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        counts[f"{user.email} {path}"] = len(queries)
    return counts


def test_api_lists_run_a_constant_number_of_queries(school_a):
    _seed(school_a, 3)
    few = _api_query_counts(school_a)
    _seed(school_a, 52)
    many = _api_query_counts(school_a)
    with tenant_context(school_a.tenant):
        assert Exercise.objects.count() >= 55 and Reply.objects.count() >= 55
    assert few == many
