"""Writes of exercises and classes: create, edit, publish and delete exercises; classes of
students to assign them to.

Inside a tenant's schema the tenant is implicit. Services take the acting member (a
`tenants.models.Membership` of the current tenant), check what that member may do, run in a
transaction and queue side effects after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from billing import services as billing_services
from learning import activity, roles
from learning.errors import DomainError, PermissionDenied
from learning.models import Classroom, Comment, Exercise, MediaFile
from tenants.models import Membership

MAX_COMMENT_LENGTH = 4000


def _members_by_id(user_ids: Iterable[int], *, role: str = "student") -> list[int]:
    """Keep only ids of users who are members of the current tenant with `role`."""
    ids = set(user_ids)
    if not ids:
        return []
    return list(
        Membership.objects.filter(
            tenant_id=connection.tenant.pk, role=role, user_id__in=ids
        ).values_list("user_id", flat=True)
    )


# --- Classes ------------------------------------------------------------------------------


@transaction.atomic
def classroom_save(
    *,
    member: Membership,
    name: str,
    student_ids: Iterable[int],
    classroom: Classroom | None = None,
    ends_on: date | None = None,
) -> Classroom:
    """Create or rename a class and set its students and its end date (from which the school's
    retention of replies counts)."""
    roles.require_teacher(member)
    name = name.strip()
    if not name:
        raise DomainError("Give the class a name.", code="name_required")
    if Classroom.objects.filter(name=name).exclude(pk=getattr(classroom, "pk", None)).exists():
        raise DomainError(f"There is already a class called “{name}”.", code="name_taken")
    if classroom is None:
        classroom = Classroom.objects.create(name=name, created_by=member.user, ends_on=ends_on)
        classroom.teachers.add(member.user)  # its first teacher (learning.coteachers)
    else:
        classroom.name = name
        classroom.ends_on = ends_on
        classroom.save(update_fields=["name", "ends_on", "updated_at"])
    classroom.students.set(_members_by_id(student_ids))
    return classroom


# --- Exercises ----------------------------------------------------------------------------


def _check_demo(demo: MediaFile | None, member: Membership) -> None:
    if demo is None:
        return
    if demo.purpose != MediaFile.Purpose.DEMONSTRATION or demo.owner_id != member.user_id:
        raise PermissionDenied("This recording cannot be used here.", code="media_forbidden")


@transaction.atomic
def exercise_save(
    *,
    member: Membership,
    title: str,
    instructions: str = "",
    instrument: str = "",
    tags: Iterable[str] = (),
    due_at: datetime | None = None,
    demo: MediaFile | None = None,
    assign_to_all: bool = True,
    class_ids: Iterable[int] = (),
    student_ids: Iterable[int] = (),
    exercise: Exercise | None = None,
) -> Exercise:
    """Create a draft exercise, or edit one."""
    roles.require_teacher(member)
    title = title.strip()
    if not title:
        raise DomainError("Give the exercise a title.", code="title_required")
    _check_demo(demo, member)
    clean_tags = sorted({t.strip().lower() for t in tags if t.strip()})[:20]
    fields = {
        "title": title[:200],
        "instructions": instructions,
        "instrument": instrument.strip()[:60],
        "tags": clean_tags,
        "due_at": due_at,
        "demo": demo,
        "assign_to_all": assign_to_all,
    }
    if exercise is None:
        billing_services.check_can_create_exercise(
            tenant=connection.tenant, current_count=Exercise.objects.count()
        )
        exercise = Exercise.objects.create(created_by=member.user, **fields)
    else:
        for name, value in fields.items():
            setattr(exercise, name, value)
        exercise.save(update_fields=[*fields, "updated_at"])
    exercise.assigned_classes.set(Classroom.objects.filter(pk__in=list(class_ids)))
    exercise.assigned_students.set(_members_by_id(student_ids))
    if (
        not assign_to_all
        and not exercise.assigned_classes.exists()
        and not (exercise.assigned_students.exists())
    ):
        raise DomainError(
            "Choose who gets this exercise: everyone, some classes or some students.",
            code="no_assignees",
        )
    return exercise


@transaction.atomic
def exercise_publish(*, member: Membership, exercise: Exercise) -> Exercise:
    """Publish a draft so that its students see it."""
    roles.require_teacher(member)
    if exercise.demo is None or exercise.demo.state == MediaFile.State.FAILED:
        raise DomainError("Add a demonstration recording before publishing.", code="demo_required")
    if exercise.status == Exercise.Status.PUBLISHED:
        return exercise
    exercise.status = Exercise.Status.PUBLISHED
    exercise.published_at = timezone.now()
    exercise.save(update_fields=["status", "published_at", "updated_at"])
    activity.emit(kind="exercise_published", member=member, exercise=exercise.public_id)
    return exercise


@transaction.atomic
def exercise_delete(*, member: Membership, exercise: Exercise) -> None:
    """Delete an exercise with its replies; their stored files are removed after commit. A
    demonstration that a copy of the exercise shows too (learning.courses) stays."""
    roles.require_teacher(member)
    shared = (
        exercise.demo_id is not None
        and Exercise.objects.filter(demo_id=exercise.demo_id).exclude(pk=exercise.pk).exists()
    )
    media_ids = [exercise.demo_id] if exercise.demo_id and not shared else []
    media_ids += list(exercise.replies.values_list("media_id", flat=True))
    media_ids += list(
        Comment.objects.filter(reply__exercise=exercise)
        .exclude(media=None)
        .values_list("media_id", flat=True)
    )
    exercise.delete()
    media = list(MediaFile.objects.filter(pk__in=media_ids))
    MediaFile.objects.filter(pk__in=media_ids).delete()
    _remove_stored_media_on_commit(media)


def _remove_stored_media_on_commit(media: list[MediaFile]) -> None:
    if not media:
        return
    from learning.media import tasks

    prefixes = [m.source_key.rsplit("/", 1)[0] + "/" for m in media if m.source_key]
    transaction.on_commit(lambda: tasks.delete_stored_objects.delay(prefixes))
