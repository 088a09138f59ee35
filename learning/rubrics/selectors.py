"""Reads of rubrics, scores and the class gradebook. Each selector does its own prefetching, so
a list's query count does not grow with its rows.

Who sees what: every teacher of the tenant sees the library and every exercise's rubric; a
student sees the rubric of an exercise assigned to them (before recording) and the scores of
their own replies. Another tenant's rubrics live in another schema and are never found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from learning import roles
from learning.errors import NotFound
from learning.exercises import selectors as exercise_selectors
from learning.models import Classroom, Exercise, Reply, Rubric, RubricLevel, RubricScore
from learning.querysets import unique_or_none
from tenants.models import ADMIN_ROLES, Membership


def _with_structure(rubrics: QuerySet[Rubric]) -> QuerySet[Rubric]:
    return rubrics.select_related("exercise").prefetch_related(
        "criteria", Prefetch("criteria__levels", queryset=RubricLevel.objects.order_by("position"))
    )


def rubrics_for_teacher(*, member: Membership, library: bool | None = None) -> QuerySet[Rubric]:
    """Every rubric of the tenant (the library's templates and the exercises' own), or only
    the library (`library=True`) or only the exercises' (`library=False`)."""
    roles.require_teacher(member)
    rubrics = Rubric.objects.all()
    if library is not None:
        rubrics = rubrics.filter(is_template=library)
    return _with_structure(rubrics).order_by("-is_template", "title", "created_at")


def library() -> QuerySet[Rubric]:
    return Rubric.objects.filter(is_template=True).order_by("title", "created_at")


def rubric_get(*, member: Membership, public_id) -> Rubric:
    """A rubric for a teacher to read or edit."""
    rubric = None
    if roles.is_teacher(member):
        rubric = unique_or_none(_with_structure(Rubric.objects.filter(public_id=public_id)))
    if rubric is None:
        raise NotFound("This rubric does not exist.", code="not_found")
    return rubric


def rubric_for_exercise(*, exercise: Exercise) -> Rubric | None:
    """The exercise's rubric with its criteria and levels (visibility is the caller's, who has
    already read the exercise through exercise_get)."""
    return unique_or_none(_with_structure(Rubric.objects.filter(exercise=exercise)))


def exercise_rubric_get(*, member: Membership, exercise_public_id) -> Rubric:
    exercise = exercise_selectors.exercise_get(member=member, public_id=exercise_public_id)
    rubric = rubric_for_exercise(exercise=exercise)
    if rubric is None:
        raise NotFound("This exercise has no rubric.", code="not_found")
    return rubric


def scores_for_reply(*, reply: Reply) -> list[RubricScore]:
    return list(
        RubricScore.objects.filter(reply=reply)
        .select_related("criterion", "level", "scored_by")
        .order_by("criterion__position", "criterion_id")
    )


# --- The gradebook ------------------------------------------------------------------------


@dataclass
class GradeCell:
    reply: Reply | None = None

    @property
    def given(self) -> float | None:
        return self.reply.score_given if self.reply else None

    @property
    def maximum(self) -> float | None:
        return self.reply.score_maximum if self.reply else None


@dataclass
class GradeRow:
    student: object
    cells: list[GradeCell] = field(default_factory=list)

    @property
    def total_given(self) -> Decimal:
        return sum((_d(c.given) for c in self.cells if c.reply), Decimal(0))

    @property
    def total_maximum(self) -> Decimal:
        return sum((_d(c.maximum) for c in self.cells if c.reply), Decimal(0))

    @property
    def graded(self) -> int:
        return sum(1 for c in self.cells if c.reply)

    @property
    def percent(self) -> Decimal | None:
        if not self.total_maximum:
            return None
        return (self.total_given * 100 / self.total_maximum).quantize(Decimal("0.1"))


@dataclass
class Gradebook:
    classroom: Classroom
    exercises: list[Exercise]
    rows: list[GradeRow]


def _d(value: float | None) -> Decimal:
    # Grades are stored as floats (the LTI score's type); sums are exact to the cent.
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal(0)


def classroom_get(*, member: Membership, public_id) -> Classroom:
    roles.require_teacher(member)
    classroom = unique_or_none(Classroom.objects.filter(public_id=public_id))
    if classroom is None:
        raise NotFound("This class does not exist.", code="not_found")
    return classroom


def gradebook(*, member: Membership, classroom: Classroom) -> Gradebook:
    """The class's students by the exercises assigned to the class (or to everyone), published.

    The grade that counts for a student and an exercise is their latest scored attempt (the
    highest attempt number with a score): a student who tries again after a grade keeps it
    until the new attempt is scored. The student's total is the sum of those grades out of the
    sum of their maximums (exercises without a grade count for neither). Four queries,
    whatever the size of the class (one more for a teacher: is it their class?). Owners and
    admins read every class's; a teacher only the classes they teach (learning.coteachers),
    another class's is not found."""
    roles.require_teacher(member)
    if member.role not in ADMIN_ROLES and not classroom.teachers.filter(pk=member.user_id).exists():
        raise NotFound("This class does not exist.", code="not_found")
    students = list(classroom.students.order_by("full_name", "email"))
    exercises = list(
        Exercise.objects.filter(status=Exercise.Status.PUBLISHED)
        .filter(Q(assign_to_all=True) | Q(assigned_classes=classroom))
        .distinct()
        .order_by("published_at", "pk")
    )
    latest: dict[tuple[int, int], Reply] = {}
    if students and exercises:
        scored = (
            Reply.objects.filter(
                student__in=[s.pk for s in students],
                exercise__in=[e.pk for e in exercises],
                score_given__isnull=False,
            )
            .order_by("student_id", "exercise_id", "-attempt")
            .distinct("student_id", "exercise_id")
            .only(
                "pk",
                "public_id",
                "student_id",
                "exercise_id",
                "attempt",
                "score_given",
                "score_maximum",
            )
        )
        latest = {(r.student_id, r.exercise_id): r for r in scored}
    rows = [
        GradeRow(
            student=student,
            cells=[GradeCell(latest.get((student.pk, exercise.pk))) for exercise in exercises],
        )
        for student in students
    ]
    return Gradebook(classroom=classroom, exercises=exercises, rows=rows)
