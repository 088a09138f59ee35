"""What the dashboards share: the weekly series of rollups, and who the members are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Aggregate, DurationField, QuerySet

from analytics.models import Role, WeeklyRollup
from analytics.rollups import week_start
from learning.models import Exercise
from tenants.models import TEACHING_ROLES, Membership

CHART_WEEKS = 12


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class WeekPoint:
    week: date
    attempts: int = 0
    practice_minutes: int = 0
    comments: int = 0
    feedback: int = 0
    uploads: int = 0
    active_students: int = 0
    active_teachers: int = 0
    retention: float | None = None  # share of last week's active members active again

    @property
    def label(self) -> str:
        return self.week.strftime("%-d %b")

    @property
    def active_users(self) -> int:
        return self.active_students + self.active_teachers


def weeks_until(today: date, count: int = CHART_WEEKS) -> list[date]:
    this_week = week_start(today)
    return [this_week - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def weekly_series(rows: list[WeeklyRollup], weeks: list[date]) -> list[WeekPoint]:
    by_week = {row.week: row for row in rows}
    points = []
    for week in weeks:
        row = by_week.get(week)
        if row is None:
            points.append(WeekPoint(week=week))
            continue
        points.append(
            WeekPoint(
                week=week, attempts=row.attempts, practice_minutes=row.practice_minutes,
                comments=row.comments, feedback=row.feedback_given, uploads=row.uploads,
                active_students=row.active_students, active_teachers=row.active_teachers,
            )
        )
    return points


# --- Members --------------------------------------------------------------------------------


def teacher_user_ids() -> list[int]:
    return list(
        Membership.objects.filter(tenant_id=connection.tenant.pk, role__in=TEACHING_ROLES)
        .values_list("user_id", flat=True)
    )


def student_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        tenant_id=connection.tenant.pk, role=Role.STUDENT
    ).select_related("user")


def assigned_student_ids(*, exercise: Exercise) -> set[int]:
    """The students who see `exercise` (members only: someone who left is not reminded)."""
    students = set(student_memberships().values_list("user_id", flat=True))
    if exercise.assign_to_all:
        return students
    direct = set(exercise.assigned_students.values_list("id", flat=True))
    classes = set(
        Exercise.assigned_classes.through.objects.filter(exercise=exercise)
        .values_list("classroom__students", flat=True)
    )
    return students & (direct | classes)


def assigned_counts(student_ids: set[int]) -> dict[int, int]:
    """Published exercises assigned to each student, in three queries whatever the numbers."""
    published = Exercise.objects.filter(status=Exercise.Status.PUBLISHED)
    for_all = published.filter(assign_to_all=True).count()
    pairs: set[tuple[int, int]] = set(
        Exercise.assigned_students.through.objects.filter(
            exercise__status=Exercise.Status.PUBLISHED, exercise__assign_to_all=False
        ).values_list("user_id", "exercise_id")
    )
    pairs |= set(
        Exercise.assigned_classes.through.objects.filter(
            exercise__status=Exercise.Status.PUBLISHED, exercise__assign_to_all=False,
            classroom__students__isnull=False,
        ).values_list("classroom__students", "exercise_id")
    )
    counts: dict[int, int] = defaultdict(int)
    for student_id, _exercise_id in pairs:
        counts[student_id] += 1
    return {sid: for_all + counts.get(sid, 0) for sid in student_ids}
