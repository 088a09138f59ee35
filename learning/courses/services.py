"""Writes of courses: create and assign a course, its units and items (release dates and
prerequisites), duplicate it for a new term, keep course and exercise templates, and ask for a
copy in another school where the teacher also teaches (learning.courses.copies does it).

Inside a tenant's schema the tenant is implicit. Services take the acting member, check that
they teach here, run in a transaction and queue side effects after commit.

Copies within a school copy the exercises (replies hang off an exercise, so a shared one would
mix two terms' replies and its gate would have two answers) and share their demonstration
recordings: a processed recording is never rewritten, and deleting an exercise keeps a
recording another exercise still shows (learning.exercises.services.exercise_delete).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing import services as billing_services
from learning import page_parts, roles
from learning.errors import DomainError, NotFound, PermissionDenied
from learning.exercises.services import _members_by_id
from learning.models import Classroom, Course, CourseCopy, CourseItem, CourseUnit, Exercise
from tenants.models import TEACHING_ROLES, Membership

MAX_SHIFT_DAYS = 5 * 366


# --- Courses, units and items ---------------------------------------------------------------


@transaction.atomic
def course_save(
    *, member: Membership, title: str, description: str = "", course: Course | None = None
) -> Course:
    """Create a course (assigned to nobody yet), or rename it."""
    roles.require_teacher(member)
    title = title.strip()
    if not title:
        raise DomainError("Give the course a title.", code="title_required")
    if course is None:
        return Course.objects.create(
            title=title[:200], description=description, created_by=member.user
        )
    course.title, course.description = title[:200], description
    course.save(update_fields=["title", "description", "updated_at"])
    return course


@transaction.atomic
def course_delete(*, member: Membership, course: Course) -> None:
    """Delete a course with its units and items; its exercises and their replies stay."""
    roles.require_teacher(member)
    course.delete()
    page_parts.bump()  # its students no longer get its exercises through it


@transaction.atomic
def course_assign(
    *,
    member: Membership,
    course: Course,
    assign_to_all: bool,
    class_ids: Iterable[int] = (),
    student_ids: Iterable[int] = (),
) -> Course:
    """Give the course to everyone, to some classes or students, or (all empty) to nobody.
    Its published exercises reach those students through it."""
    roles.require_teacher(member)
    if course.is_template:
        raise DomainError(
            "A template is not assigned: use it to make a course, then assign that.",
            code="template_not_assignable",
        )
    course.assign_to_all = assign_to_all
    course.save(update_fields=["assign_to_all", "updated_at"])
    course.assigned_classes.set(Classroom.objects.filter(pk__in=list(class_ids)))
    course.assigned_students.set(_members_by_id(student_ids))
    page_parts.bump()  # the students' lists of exercises change with it
    return course


@transaction.atomic
def unit_add(*, member: Membership, course: Course, title: str) -> CourseUnit:
    """A new unit at the end of the course."""
    roles.require_teacher(member)
    title = title.strip()
    if not title:
        raise DomainError("Give the unit a title.", code="title_required")
    Course.objects.select_for_update().filter(pk=course.pk).first()
    last = course.units.aggregate(n=Max("position"))["n"]
    return CourseUnit.objects.create(
        course=course, title=title[:200], position=0 if last is None else last + 1
    )


def _check_prerequisite(item: CourseItem | None, prerequisite: CourseItem | None, course) -> None:
    if prerequisite is None:
        return
    if prerequisite.unit.course_id != course.pk:
        raise DomainError(
            "The prerequisite must be an item of this course.", code="bad_prerequisite"
        )
    if item is not None and prerequisite.pk == item.pk:
        raise DomainError("An item cannot be its own prerequisite.", code="bad_prerequisite")
    # No cycle: walk the chain up from the prerequisite (a course has few items).
    seen, current = set(), prerequisite
    while current is not None and current.pk not in seen:
        if item is not None and current.prerequisite_id == item.pk:
            raise DomainError(
                "These prerequisites would wait for each other.", code="prerequisite_cycle"
            )
        seen.add(current.pk)
        current = current.prerequisite


@transaction.atomic
def item_add(
    *,
    member: Membership,
    unit: CourseUnit,
    exercise: Exercise,
    release_at: datetime | None = None,
    prerequisite: CourseItem | None = None,
    requires: str = CourseItem.Requires.REPLY,
) -> CourseItem:
    """Put an exercise at the end of a unit, with an optional release date and prerequisite."""
    roles.require_teacher(member)
    if requires not in CourseItem.Requires.values:
        raise DomainError("A prerequisite asks for a reply or a review.", code="bad_requires")
    if exercise.is_template:
        raise DomainError("Use the template first; a template is not taught.", code="is_template")
    if CourseItem.objects.filter(exercise=exercise).exists():
        raise DomainError(
            f"“{exercise.title}” is already in a course. Duplicate it to use it again.",
            code="exercise_in_course",
        )
    _check_prerequisite(None, prerequisite, unit.course)
    CourseUnit.objects.select_for_update().filter(pk=unit.pk).first()
    last = unit.items.aggregate(n=Max("position"))["n"]
    return CourseItem.objects.create(
        unit=unit,
        exercise=exercise,
        position=0 if last is None else last + 1,
        release_at=release_at,
        prerequisite=prerequisite,
        requires=requires,
    )


@transaction.atomic
def item_update(
    *,
    member: Membership,
    item: CourseItem,
    release_at: datetime | None,
    prerequisite: CourseItem | None,
    requires: str = CourseItem.Requires.REPLY,
) -> CourseItem:
    """Change when an item opens and what it waits for."""
    roles.require_teacher(member)
    if requires not in CourseItem.Requires.values:
        raise DomainError("A prerequisite asks for a reply or a review.", code="bad_requires")
    _check_prerequisite(item, prerequisite, item.unit.course)
    item.release_at, item.prerequisite, item.requires = release_at, prerequisite, requires
    item.save(update_fields=["release_at", "prerequisite", "requires", "updated_at"])
    return item


@transaction.atomic
def item_remove(*, member: Membership, item: CourseItem) -> None:
    """Take an exercise out of its course (the exercise and its replies stay)."""
    roles.require_teacher(member)
    item.delete()


# --- Templates ------------------------------------------------------------------------------


@transaction.atomic
def course_template_set(*, member: Membership, course: Course, is_template: bool) -> Course:
    """Put a course in the school's template library, or take it out. A template is assigned to
    nobody, and its exercises are templates too (students never see them)."""
    roles.require_teacher(member)
    course.is_template = is_template
    fields = ["is_template", "updated_at"]
    if is_template:
        course.assign_to_all = False
        fields.append("assign_to_all")
        course.assigned_classes.clear()
        course.assigned_students.clear()
    course.save(update_fields=fields)
    Exercise.objects.filter(course_item__unit__course=course).update(is_template=is_template)
    page_parts.bump()
    return course


@transaction.atomic
def exercise_template_set(*, member: Membership, exercise: Exercise, is_template: bool) -> Exercise:
    """Put an exercise in the school's template library (students no longer see it), or back."""
    roles.require_teacher(member)
    if CourseItem.objects.filter(exercise=exercise).exists():
        raise DomainError(
            "This exercise is part of a course: make the course a template instead.",
            code="exercise_in_course",
        )
    exercise.is_template = is_template
    exercise.save(update_fields=["is_template", "updated_at"])
    return exercise


def _exercise_copy(source: Exercise, *, created_by, **fields) -> Exercise:
    """An unsaved copy of `source`'s content (title, instructions, demonstration)."""
    return Exercise(
        title=source.title,
        instructions=source.instructions,
        instrument=source.instrument,
        tags=list(source.tags),
        demo_id=source.demo_id,
        created_by=created_by,
        **fields,
    )


@transaction.atomic
def exercise_template_use(*, member: Membership, exercise: Exercise) -> Exercise:
    """A new draft exercise from a template, for everyone until the teacher says otherwise."""
    roles.require_teacher(member)
    if not exercise.is_template:
        raise DomainError("This exercise is not a template.", code="not_template")
    billing_services.check_can_create_exercise(
        tenant=connection.tenant, current_count=Exercise.objects.count()
    )
    copy = _exercise_copy(exercise, created_by=member.user, assign_to_all=True)
    copy.save()
    return copy


# --- Duplicating a course -------------------------------------------------------------------


@transaction.atomic
def course_duplicate(
    *,
    member: Membership,
    course: Course,
    title: str = "",
    shift: timedelta = timedelta(0),
    as_template: bool = False,
) -> Course:
    """A copy of the course's units and items with new exercises (none of the students' replies),
    release dates moved by `shift`, assigned to nobody. "Use template" is this with no shift."""
    roles.require_teacher(member)
    if abs(shift) > timedelta(days=MAX_SHIFT_DAYS):
        raise DomainError("Shift the dates by at most five years.", code="shift_too_large")
    units = list(course.units.order_by("position", "pk"))
    items = list(
        CourseItem.objects.filter(unit__course=course)
        .select_related("exercise")
        .order_by("unit__position", "unit__pk", "position", "pk")
    )
    if items:
        billing_services.check_can_create_exercise(
            tenant=connection.tenant, current_count=Exercise.objects.count() + len(items) - 1
        )
    copy = Course.objects.create(
        title=(title.strip() or f"{course.title} (copy)")[:200],
        description=course.description,
        is_template=as_template,
        created_by=member.user,
    )
    new_units = CourseUnit.objects.bulk_create(
        [CourseUnit(course=copy, title=u.title, position=u.position) for u in units]
    )
    unit_map = {old.pk: new.pk for old, new in zip(units, new_units, strict=True)}
    now = timezone.now()
    # The copies reach students only through the new course (assigned to nobody yet).
    exercises = Exercise.objects.bulk_create(
        [
            _exercise_copy(
                item.exercise,
                created_by=member.user,
                due_at=item.exercise.due_at and item.exercise.due_at + shift,
                status=item.exercise.status,
                published_at=now if item.exercise.status == Exercise.Status.PUBLISHED else None,
                assign_to_all=False,
                is_template=as_template,
            )
            for item in items
        ]
    )
    new_items = CourseItem.objects.bulk_create(
        [
            CourseItem(
                unit_id=unit_map[item.unit_id],
                exercise=exercise,
                position=item.position,
                release_at=item.release_at and item.release_at + shift,
                requires=item.requires,
            )
            for item, exercise in zip(items, exercises, strict=True)
        ]
    )
    item_map = {old.pk: new for old, new in zip(items, new_items, strict=True)}
    with_prerequisite = []
    for old, new in zip(items, new_items, strict=True):
        if old.prerequisite_id in item_map:
            new.prerequisite = item_map[old.prerequisite_id]
            with_prerequisite.append(new)
    CourseItem.objects.bulk_update(with_prerequisite, ["prerequisite"])
    page_parts.bump()  # bulk writes send no signal (learning.page_parts)
    return copy


@transaction.atomic
def course_template_use(*, member: Membership, course: Course, title: str = "") -> Course:
    """A new course from a template of the library, its dates as they were."""
    if not course.is_template:
        raise DomainError("This course is not a template.", code="not_template")
    return course_duplicate(member=member, course=course, title=title or course.title)


# --- Copying to another school --------------------------------------------------------------


def copy_targets(*, member: Membership) -> list:
    """The other schools where this member has a teaching role (tenants.models.Tenant)."""
    memberships = (
        Membership.objects.filter(user=member.user, role__in=TEACHING_ROLES)
        .exclude(tenant_id=connection.tenant.pk)
        .select_related("tenant")
        .order_by("tenant__name")
    )
    return [m.tenant for m in memberships]


@transaction.atomic
def copy_to_tenant_request(
    *,
    member: Membership,
    target_tenant_id,
    course: Course | None = None,
    exercise: Exercise | None = None,
) -> CourseCopy:
    """Queue a copy of one of the member's own exercises or courses, with its recordings, into
    another school where they teach (task `learning.copy_to_tenant`). A school they are not a
    member of is not found; one where they do not teach refuses."""
    from learning.courses import tasks

    roles.require_teacher(member)
    subject = course or exercise
    if subject is None or (course is not None and exercise is not None):
        raise DomainError("Copy one course or one exercise.", code="copy_subject")
    if subject.created_by_id != member.user_id:
        raise PermissionDenied(
            "You can copy only your own courses and exercises to another school.",
            code="not_yours",
        )
    target = (
        Membership.objects.filter(user=member.user, tenant__public_id=target_tenant_id)
        .select_related("tenant")
        .first()
    )
    if target is None:
        raise NotFound("That school does not exist or you are not a member.", code="not_found")
    if target.tenant_id == connection.tenant.pk:
        raise DomainError("Choose another school: this is the one you are in.", code="same_school")
    if target.role not in TEACHING_ROLES:
        raise PermissionDenied(
            f"You do not teach at {target.tenant.name}, so nothing can be copied there.",
            code="teachers_only",
        )
    copy = CourseCopy.objects.create(
        requested_by=member.user,
        target_tenant_id=target.tenant.public_id,
        course=course,
        exercise=exercise,
    )
    transaction.on_commit(lambda: tasks.copy_to_tenant.delay(copy.pk))
    return copy
