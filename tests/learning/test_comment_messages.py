"""An empty comment is refused with what to do ("Write a comment first."), not "Some fields
are not valid.", through the API the compare page uses, when adding and when editing."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from tests.conftest import client_for
from tests.support.factories import CommentFactory, ReplyFactory


def test_an_empty_comment_is_refused_with_a_sentence(school_a):
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(exercise__created_by=school_a.teacher, student=school_a.student)
        mine = CommentFactory(reply=reply, author=school_a.teacher)
    teacher = client_for(school_a.teacher, school_a.host)

    for body in ("", "   "):
        added = teacher.post(
            f"/api/v1/replies/{reply.public_id}/comments/",
            {"body": body, "at_ms": 1200},
            content_type="application/json",
        )
        edited = teacher.patch(
            f"/api/v1/comments/{mine.public_id}/", {"body": body}, content_type="application/json"
        )
        for response in (added, edited):
            assert response.status_code == 400, response.content
            assert response.json()["code"] == "body_required"
            assert response.json()["message"] == "Write a comment first."

    # A comment with words is taken (the control)
    ok = teacher.post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": "Lovely", "at_ms": 1200},
        content_type="application/json",
    )
    assert ok.status_code == 201
