"""Reads of courses: the teachers' list and template library, the courses assigned to a student,
and a student's path through one course (done / open / locked, with the reason). Each does its
own joins, so that a page's query count does not grow with units, items or courses."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from learning import roles
from learning.courses import gates
from learning.errors import NotFound
from learning.models import Course, CourseItem, CourseUnit, Exercise
from learning.querysets import unique_or_none
from tenants.models import Membership


def course_assigned_q(student, prefix: str = "") -> Q:
    """The rule "this course is assigned to `student`" (not a template), under `prefix`."""
    return Q(**{f"{prefix}is_template": False}) & (
        Q(**{f"{prefix}assign_to_all": True})
        | Q(**{f"{prefix}assigned_students": student})
        | Q(**{f"{prefix}assigned_classes__students": student})
    )


def courses_assigned_to(student) -> QuerySet[Course]:
    """The pks of the courses assigned to `student`, as a subquery (distinct rows)."""
    return Course.objects.filter(course_assigned_q(student)).values("pk")


def _counted(queryset: QuerySet[Course]) -> QuerySet[Course]:
    # Counts from subqueries rather than a join of units and items grouped by every column.
    units = (
        CourseUnit.objects.filter(course=OuterRef("pk"))
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items = (
        CourseItem.objects.filter(unit__course=OuterRef("pk"))
        .order_by()
        .values("unit__course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related("created_by").annotate(
        unit_count=Coalesce(Subquery(units, output_field=IntegerField()), 0),
        item_count=Coalesce(Subquery(items, output_field=IntegerField()), 0),
    )


def course_with_counts(*, course: Course) -> Course:
    """`course` read again with its unit and item counts (its visibility already checked)."""
    return _counted(Course.objects.filter(pk=course.pk)).get()


def courses_for_teacher(*, templates: bool = False) -> QuerySet[Course]:
    """The school's courses (or its template library), for any of its teachers."""
    return _counted(Course.objects.filter(is_template=templates)).order_by("title", "pk")


def courses_for_student(*, student) -> QuerySet[Course]:
    return _counted(Course.objects.filter(pk__in=courses_assigned_to(student))).order_by(
        "title", "pk"
    )


def courses_visible_to(*, member: Membership) -> QuerySet[Course]:
    if roles.is_teacher(member):
        return courses_for_teacher()
    return courses_for_student(student=member.user)


def exercise_templates() -> QuerySet[Exercise]:
    """Exercise templates of the library (those of template courses are copied with them)."""
    return (
        Exercise.objects.filter(is_template=True, course_item__isnull=True)
        .select_related("created_by")
        .order_by("title", "pk")
    )


def course_get(*, member: Membership, public_id) -> Course:
    """A course of this school: any for its teachers, an assigned one for a student."""
    courses = Course.objects.select_related("created_by").filter(public_id=public_id)
    if not roles.is_teacher(member):
        courses = courses.filter(pk__in=courses_assigned_to(member.user))
    course = unique_or_none(courses)
    if course is None:
        raise NotFound("This course does not exist or is not assigned to you.", code="not_found")
    return course


def course_items(*, course: Course) -> list[CourseItem]:
    """The course's items in order with their unit, exercise and prerequisite, in one query."""
    return list(
        CourseItem.objects.filter(unit__course=course)
        .select_related("unit", "exercise", "prerequisite__exercise")
        .order_by("unit__position", "unit__pk", "position", "pk")
    )


# --- A student's path -----------------------------------------------------------------------


@dataclass(frozen=True)
class PathItem:
    item: CourseItem
    exercise: Exercise
    state: str  # "done", "open" or "locked"
    lock: gates.Lock | None


@dataclass
class PathUnit:
    unit: CourseUnit
    items: list[PathItem] = field(default_factory=list)


@dataclass(frozen=True)
class CoursePath:
    course: Course
    units: list[PathUnit]
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def course_path(*, member: Membership, course: Course) -> CoursePath:
    """Each unit's published exercises for this student: done (a reply sent), open or locked
    with the reason. Three queries whatever the size of the course."""
    units = list(CourseUnit.objects.filter(course=course).order_by("position", "pk"))
    by_unit = {unit.pk: PathUnit(unit=unit) for unit in units}
    items = [
        item
        for item in course_items(course=course)
        if item.exercise.status == Exercise.Status.PUBLISHED
    ]
    progress = gates.progress_of(
        student=member.user,
        exercise_ids={i.exercise_id for i in items}
        | {i.prerequisite.exercise_id for i in items if i.prerequisite},
    )
    now, done = timezone.now(), 0
    for item in items:
        if progress.done(item.exercise_id):
            state, lock = "done", None
            done += 1
        else:
            lock = gates.item_lock(item, progress=progress, now=now)
            state = "locked" if lock else "open"
        by_unit[item.unit_id].items.append(
            PathItem(item=item, exercise=item.exercise, state=state, lock=lock)
        )
    return CoursePath(course=course, units=list(by_unit.values()), done=done, total=len(items))
