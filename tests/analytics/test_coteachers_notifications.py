"""Co-teachers hear of the replies that are theirs: a new reply and a student's comment notify
the teachers who see the reply (its exercise's creator, its classes' teachers, its reviewer),
never a teacher of another class; a new comment is pushed live only to those who may see it."""

from __future__ import annotations

import pytest

from analytics import handlers
from analytics.models import Notification
from learning.models import Classroom
from tenants.models import Membership, Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("eager_tasks")


def _teacher(school, name: str) -> User:
    user = User.objects.create_user(
        email=f"{name}@{school.tenant.slug}.example.com", password=PASSWORD, full_name=name
    )
    Membership.objects.create(user=user, tenant=school.tenant, role=Role.TEACHER)
    return user


def test_a_reply_and_a_students_comment_notify_its_teachers_only(loop, monkeypatch):
    school = loop.school
    colleague, outsider = _teacher(school, "colleague"), _teacher(school, "outsider")
    strings = Classroom.objects.create(name="Strings", created_by=school.teacher)
    strings.teachers.set([colleague])
    strings.students.set([school.student])
    Classroom.objects.create(name="Winds", created_by=outsider).teachers.set([outsider])
    pushed: list[set[int]] = []

    def push(*, user_ids, payload):
        if payload["type"] == "comment.created":
            pushed.append(set(user_ids))

    monkeypatch.setattr(handlers.live, "push", push)

    exercise = loop.publish(school.teacher, title="Etude")
    reply = loop.reply(school.student, exercise)
    to_review = Notification.objects.filter(kind="reply_to_review")
    assert set(to_review.values_list("recipient_id", flat=True)) == {
        school.teacher.pk,
        colleague.pk,
    }

    loop.comment(school.student, reply, body="Is bar 3 right?")
    asked = Notification.objects.filter(kind="new_comment")
    assert set(asked.values_list("recipient_id", flat=True)) == {school.teacher.pk, colleague.pk}
    # The live comment reaches the student, the teachers who see the reply and the owner.
    assert pushed == [{school.student.pk, school.teacher.pk, colleague.pk, school.owner.pk}]
