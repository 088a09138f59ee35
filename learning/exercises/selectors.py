"""Reads of the core loop. Each selector does its own joins so that a page's query count
does not grow with its rows. Visibility rules live here: students see only what is assigned
to them and only their own replies; teachers and admins see everything in their tenant."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from learning import page_parts, roles
from learning.courses import selectors as course_selectors
from learning.errors import NotFound
from learning.models import Classroom, Exercise, Reply
from learning.querysets import unique_or_none
from learning.replies import selectors as reply_selectors
from tenants.models import Membership


def exercises_for_teacher(*, member: Membership | None = None) -> QuerySet[Exercise]:
    """Every exercise of the tenant; `reply_count` counts the replies `member` may see
    (learning.replies.selectors.visible_replies), or all of them without a member."""
    counted = Reply.objects if member is None else reply_selectors.visible_replies(member=member)
    return (
        Exercise.objects.select_related("demo", "created_by")
        .annotate(reply_count=_count_per_exercise(counted))
        .order_by("-created_at")
    )


def _count_per_exercise(replies: QuerySet[Reply]) -> Coalesce:
    """How many of `replies` each exercise has, from the reply index: a subquery rather than
    joining every reply and grouping by all the selected columns (20 ms instead of 65 ms for the
    teachers' list, 50 ms instead of 1 s for a student's, at 10,000 replies; docs/scaling.md)."""
    counted = (
        replies.filter(exercise=OuterRef("pk"))
        .order_by()
        .values("exercise")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _assigned_to(student) -> QuerySet[Exercise]:
    # Assigned itself, or through a course assigned to the student (learning.courses).
    return Exercise.objects.filter(status=Exercise.Status.PUBLISHED, is_template=False).filter(
        Q(assign_to_all=True)
        | Q(assigned_students=student)
        | Q(assigned_classes__students=student)
        | Q(course_item__unit__course__in=course_selectors.courses_assigned_to(student))
    )


def exercises_for_student(*, student) -> QuerySet[Exercise]:
    return (
        Exercise.objects.filter(pk__in=_assigned_to(student).values("pk"))
        .select_related("demo", "created_by")
        .annotate(my_reply_count=_count_per_exercise(Reply.objects.filter(student=student)))
        .order_by("due_at", "-published_at")
    )


def exercises_visible_to(*, member: Membership) -> QuerySet[Exercise]:
    if roles.is_teacher(member):
        return exercises_for_teacher(member=member)
    return exercises_for_student(student=member.user)


def _is_assigned(exercise: Exercise, student) -> bool:
    """`_assigned_to(student)`'s rule for one exercise already read: most are published to
    everyone, which needs no query (building the rule's OR over two many-to-many joins cost a
    quarter of the student exercise page; docs/scaling.md)."""
    if exercise.status != Exercise.Status.PUBLISHED or exercise.is_template:
        return False
    if exercise.assign_to_all:
        return True
    return (
        Exercise.objects.filter(pk=exercise.pk)
        .filter(
            Q(assigned_students=student)
            | Q(assigned_classes__students=student)
            | Q(course_item__unit__course__in=course_selectors.courses_assigned_to(student))
        )
        .exists()
    )


def exercise_get(*, member: Membership, public_id, for_page: bool = False) -> Exercise:
    """The same visibility as the lists, without their per-row counts; with its course item, so
    that the course gate (learning.courses.gates) needs no query of its own. `for_page`: the
    row from learning.page_parts' cache (a page's read, never a service's); the visibility
    is checked on it as on a fresh one."""

    def read() -> Exercise | None:
        return unique_or_none(
            Exercise.objects.select_related(
                "demo", "created_by", "course_item__prerequisite__exercise"
            ).filter(public_id=public_id)
        )

    exercise = page_parts.value(f"exercise:{public_id}", read) if for_page else read()
    if exercise is not None and not roles.is_teacher(member):
        exercise = exercise if _is_assigned(exercise, member.user) else None
    if exercise is None:
        raise NotFound("This exercise does not exist or is not assigned to you.", code="not_found")
    return exercise


def classrooms() -> QuerySet[Classroom]:
    return Classroom.objects.annotate(student_count=Count("students")).order_by("name")
