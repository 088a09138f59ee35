"""Exercises, replies and comments: who may do and see what (given / when / then)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning.errors import DomainError, NotFound, PermissionDenied
from learning.exercises import selectors as exercise_selectors
from learning.exercises import services as exercise_services
from learning.models import Exercise, MediaFile, Reply
from learning.replies import selectors as reply_selectors
from learning.replies import services as reply_services
from tests.conftest import member
from tests.support.factories import (
    CommentFactory,
    ExerciseFactory,
    MediaFileFactory,
    ReplyFactory,
)


def test_teacher_creates_and_publishes_an_exercise_students_then_see_it(school_a):
    teacher = member(school_a.teacher, school_a.tenant)
    student = member(school_a.student, school_a.tenant)
    with tenant_context(school_a.tenant):
        demo = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        exercise = exercise_services.exercise_save(
            member=teacher,
            title="  G major scale ",
            instructions="Two octaves",
            demo=demo,
            tags=["Scales", "scales", " bowing "],
        )
        assert exercise.status == Exercise.Status.DRAFT
        assert exercise.tags == ["bowing", "scales"]
        assert (
            not exercise_selectors.exercises_for_student(student=student.user)
            .filter(pk=exercise.pk)
            .exists()
        )

        exercise_services.exercise_publish(member=teacher, exercise=exercise)

        assigned = exercise_selectors.exercises_for_student(student=student.user)
        assert assigned.filter(pk=exercise.pk).exists()


def test_publishing_needs_a_demonstration(school_a):
    teacher = member(school_a.teacher, school_a.tenant)
    with tenant_context(school_a.tenant):
        exercise = exercise_services.exercise_save(member=teacher, title="No demo yet")
        with pytest.raises(DomainError, match="demonstration"):
            exercise_services.exercise_publish(member=teacher, exercise=exercise)


def test_students_cannot_create_exercises(school_a):
    with tenant_context(school_a.tenant), pytest.raises(PermissionDenied):
        exercise_services.exercise_save(
            member=member(school_a.student, school_a.tenant), title="Mine"
        )


def test_students_see_only_exercises_assigned_to_them(school_a):
    teacher = member(school_a.teacher, school_a.tenant)
    with tenant_context(school_a.tenant):
        demo = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        just_other = exercise_services.exercise_save(
            member=teacher,
            title="For the other student",
            demo=demo,
            assign_to_all=False,
            student_ids=[school_a.other_student.pk],
        )
        exercise_services.exercise_publish(member=teacher, exercise=just_other)
        klass = exercise_services.classroom_save(
            member=teacher, name="Tuesday strings", student_ids=[school_a.student.pk]
        )
        demo2 = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        for_class = exercise_services.exercise_save(
            member=teacher,
            title="For the class",
            demo=demo2,
            assign_to_all=False,
            class_ids=[klass.pk],
        )
        exercise_services.exercise_publish(member=teacher, exercise=for_class)

        mine = set(
            exercise_selectors.exercises_for_student(student=school_a.student).values_list(
                "title", flat=True
            )
        )
        theirs = set(
            exercise_selectors.exercises_for_student(student=school_a.other_student).values_list(
                "title", flat=True
            )
        )

        assert "For the class" in mine and "For the other student" not in mine
        assert "For the other student" in theirs and "For the class" not in theirs
        with pytest.raises(NotFound):
            exercise_selectors.exercise_get(
                member=member(school_a.student, school_a.tenant), public_id=just_other.public_id
            )


def test_assigning_to_nobody_is_refused(school_a):
    with tenant_context(school_a.tenant), pytest.raises(DomainError, match="Choose who"):
        exercise_services.exercise_save(
            member=member(school_a.teacher, school_a.tenant), title="Nobody", assign_to_all=False
        )


def test_replies_count_attempts_and_students_see_only_their_own(school_a):
    student = member(school_a.student, school_a.tenant)
    other = member(school_a.other_student, school_a.tenant)
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        first = reply_services.reply_create(
            member=student,
            exercise=exercise,
            media=MediaFileFactory(owner=school_a.student),
            note="first go",
        )
        second = reply_services.reply_create(
            member=student, exercise=exercise, media=MediaFileFactory(owner=school_a.student)
        )
        others = reply_services.reply_create(
            member=other, exercise=exercise, media=MediaFileFactory(owner=school_a.other_student)
        )

        assert (first.attempt, second.attempt, others.attempt) == (1, 2, 1)
        mine = reply_selectors.replies_visible_to(member=student)
        visible = set(mine.values_list("pk", flat=True))
        assert visible == {first.pk, second.pk}
        with pytest.raises(NotFound):
            reply_selectors.reply_get(member=student, public_id=others.public_id)
        teacher = member(school_a.teacher, school_a.tenant)
        teacher_sees = reply_selectors.replies_visible_to(member=teacher)
        assert {first.pk, second.pk, others.pk} <= set(teacher_sees.values_list("pk", flat=True))


def test_a_student_cannot_reply_with_someone_elses_recording(school_a):
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        with pytest.raises(PermissionDenied):
            reply_services.reply_create(
                member=member(school_a.student, school_a.tenant),
                exercise=exercise,
                media=MediaFileFactory(owner=school_a.other_student),
            )


def test_review_and_comments_follow_the_rules(school_a):
    teacher = member(school_a.teacher, school_a.tenant)
    student = member(school_a.student, school_a.tenant)
    other = member(school_a.other_student, school_a.tenant)
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(student=school_a.student, exercise__created_by=school_a.teacher)
        comment = reply_services.comment_create(
            member=teacher,
            reply=reply,
            body="<script>alert(1)</script> Bow nearer the bridge",
            at_ms=12_345,
            side="demonstration",
        )
        question = reply_services.comment_create(
            member=student, reply=reply, body="Like this?", at_ms=12_400, parent=comment
        )
        reply_services.reply_review(member=teacher, reply=reply, status=Reply.Status.TRY_AGAIN)

        assert question.parent_id == comment.pk
        assert Reply.objects.get(pk=reply.pk).status == "try_again"
        with pytest.raises(PermissionDenied):
            reply_services.comment_create(member=other, reply=reply, body="hi", at_ms=0)
        with pytest.raises(PermissionDenied):
            reply_services.comment_update(member=student, comment=comment, body="changed")
        with pytest.raises(PermissionDenied):
            reply_services.reply_review(member=student, reply=reply, status="reviewed")
        reply_services.comment_update(member=teacher, comment=comment, body="Nearer the bridge")
        reply_services.comment_delete(member=student, comment=question)
        threads = list(reply_selectors.comments_for_reply(reply=reply))
        assert [c.body for c in threads] == ["Nearer the bridge"]
        assert threads[0].edited_at is not None


def test_inbox_is_oldest_first(school_a):
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher)
        first = ReplyFactory(exercise=exercise, student=school_a.student)
        second = ReplyFactory(exercise=exercise, student=school_a.other_student)
        ReplyFactory(exercise=exercise, student=school_a.student, status="reviewed")

        teacher = member(school_a.teacher, school_a.tenant)
        inbox = [r.pk for r in reply_selectors.replies_awaiting_feedback(member=teacher)]

        assert inbox.index(first.pk) < inbox.index(second.pk)
        assert len(inbox) == 2


def _query_counts(teacher, student) -> list[int]:
    counts = []
    for fetch in (
        lambda: exercise_selectors.exercises_for_teacher(),
        lambda: exercise_selectors.exercises_for_student(student=student.user),
        lambda: reply_selectors.replies_visible_to(member=teacher),
        lambda: reply_selectors.replies_awaiting_feedback(member=teacher),
    ):
        seen = []
        with CaptureQueriesContext(connection) as queries:
            for item in fetch():
                seen.append(getattr(item, "exercise", item).title)
                if hasattr(item, "media"):
                    seen.append((item.media.state, item.student.email))
        assert seen
        counts.append(len(queries))
    return counts


def _add_rows(school, n: int) -> None:
    for _ in range(n):
        exercise = ExerciseFactory(created_by=school.teacher)
        reply = ReplyFactory(exercise=exercise, student=school.student)
        CommentFactory(reply=reply, author=school.teacher)


def test_list_selectors_run_a_constant_number_of_queries(school_a):
    teacher = member(school_a.teacher, school_a.tenant)
    student = member(school_a.student, school_a.tenant)
    with tenant_context(school_a.tenant):
        _add_rows(school_a, 2)
        few = _query_counts(teacher, student)
        _add_rows(school_a, 55)
        many = _query_counts(teacher, student)

    assert few == many
    assert max(many) <= 2  # the rows, plus django-tenants' search_path when it changes


def test_school_b_cannot_see_school_a_exercises(school_a, school_b):
    with tenant_context(school_a.tenant):
        ExerciseFactory(created_by=school_a.teacher, title="A only")
    with tenant_context(school_b.tenant):
        assert not Exercise.objects.filter(title="A only").exists()
