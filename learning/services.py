"""Writes of the core loop: exercises, replies, comments, classes.

Inside a tenant's schema the tenant is implicit. Services take the acting member (a
`tenants.models.Membership` of the current tenant), check what that member may do, run in a
transaction and queue side effects after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing import services as billing_services
from learning import activity, roles, selectors
from learning.alignment import services as alignment_services
from learning.errors import DomainError, PermissionDenied
from learning.models import Classroom, Comment, Exercise, MediaFile, Reply

MAX_COMMENT_LENGTH = 4000


def _members_by_id(user_ids: Iterable[int], *, role: str = "student") -> list[int]:
    """Keep only ids of users who are members of the current tenant with `role`."""
    from django.db import connection

    from tenants.models import Membership

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
    *, actor, name: str, student_ids: Iterable[int], classroom: Classroom | None = None
) -> Classroom:
    """Create or rename a class and set its students."""
    roles.require_teacher(actor)
    name = name.strip()
    if not name:
        raise DomainError("Give the class a name.", code="name_required")
    if Classroom.objects.filter(name=name).exclude(pk=getattr(classroom, "pk", None)).exists():
        raise DomainError(f"There is already a class called “{name}”.", code="name_taken")
    if classroom is None:
        classroom = Classroom.objects.create(name=name, created_by=actor.user)
    else:
        classroom.name = name
        classroom.save(update_fields=["name", "updated_at"])
    classroom.students.set(_members_by_id(student_ids))
    return classroom


# --- Exercises ----------------------------------------------------------------------------


def _check_demo(demo: MediaFile | None, actor) -> None:
    if demo is None:
        return
    if demo.purpose != MediaFile.Purpose.DEMONSTRATION or demo.owner_id != actor.user_id:
        raise PermissionDenied("This recording cannot be used here.", code="media_forbidden")


@transaction.atomic
def exercise_save(
    *,
    actor,
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
    roles.require_teacher(actor)
    title = title.strip()
    if not title:
        raise DomainError("Give the exercise a title.", code="title_required")
    _check_demo(demo, actor)
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
        exercise = Exercise.objects.create(created_by=actor.user, **fields)
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
def exercise_publish(*, actor, exercise: Exercise) -> Exercise:
    """Publish a draft so that its students see it."""
    roles.require_teacher(actor)
    if exercise.demo is None or exercise.demo.state == MediaFile.State.FAILED:
        raise DomainError("Add a demonstration recording before publishing.", code="demo_required")
    if exercise.status == Exercise.Status.PUBLISHED:
        return exercise
    exercise.status = Exercise.Status.PUBLISHED
    exercise.published_at = timezone.now()
    exercise.save(update_fields=["status", "published_at", "updated_at"])
    activity.emit(kind="exercise_published", actor=actor, exercise=exercise.public_id)
    return exercise


@transaction.atomic
def exercise_delete(*, actor, exercise: Exercise) -> None:
    """Delete an exercise with its replies; their stored files are removed after commit."""
    roles.require_teacher(actor)
    media_ids = [exercise.demo_id] if exercise.demo_id else []
    media_ids += list(exercise.replies.values_list("media_id", flat=True))
    exercise.delete()
    media = list(MediaFile.objects.filter(pk__in=media_ids))
    MediaFile.objects.filter(pk__in=media_ids).delete()
    _remove_stored_media_on_commit(media)


def _remove_stored_media_on_commit(media: list[MediaFile]) -> None:
    if not media:
        return
    from learning import tasks

    prefixes = [m.source_key.rsplit("/", 1)[0] + "/" for m in media if m.source_key]
    transaction.on_commit(lambda: tasks.delete_stored_objects.delay(prefixes))


# --- Replies ------------------------------------------------------------------------------


@transaction.atomic
def reply_create(*, actor, exercise: Exercise, media: MediaFile, note: str = "") -> Reply:
    """A student's new attempt at an exercise assigned to them."""
    if not roles.is_student(actor):
        raise PermissionDenied("Only students reply to exercises.", code="students_only")
    visible = selectors.exercises_for_student(student=actor.user).filter(pk=exercise.pk).exists()
    if not visible:
        raise PermissionDenied("This exercise is not assigned to you.", code="not_assigned")
    if media.purpose != MediaFile.Purpose.REPLY or media.owner_id != actor.user_id:
        raise PermissionDenied("This recording cannot be used here.", code="media_forbidden")
    if media.state == MediaFile.State.AWAITING_UPLOAD:
        raise DomainError("The recording has not finished uploading.", code="upload_incomplete")
    if Reply.objects.filter(media=media).exists():
        raise DomainError("This recording was already sent.", code="media_used")
    # Lock the exercise row so that two simultaneous replies get different attempt numbers.
    Exercise.objects.select_for_update().filter(pk=exercise.pk).first()
    last = Reply.objects.filter(exercise=exercise, student=actor.user).aggregate(n=Max("attempt"))
    reply = Reply.objects.create(
        exercise=exercise,
        student=actor.user,
        media=media,
        note=note.strip()[:2000],
        attempt=(last["n"] or 0) + 1,
    )
    activity.emit(
        kind="reply_submitted", actor=actor, exercise=exercise.public_id, reply=reply.public_id,
        student_id=actor.user_id,
    )
    alignment_services.alignment_request(reply=reply)
    return reply


@transaction.atomic
def reply_review(*, actor, reply: Reply, status: str) -> Reply:
    """Mark a reply reviewed, or ask the student to try again."""
    roles.require_teacher(actor)
    if status not in (Reply.Status.REVIEWED, Reply.Status.TRY_AGAIN):
        raise DomainError("Mark the reply reviewed or ask to try again.", code="status_invalid")
    reply.status = status
    reply.reviewed_at = timezone.now()
    reply.reviewed_by = actor.user
    reply.save(update_fields=["status", "reviewed_at", "reviewed_by", "updated_at"])
    activity.emit(
        kind="feedback_given", actor=actor, reply=reply.public_id, student_id=reply.student_id,
        status=status,
    )
    return reply


@transaction.atomic
def reply_set_sync_offset(*, actor, reply: Reply, offset_ms: int) -> Reply:
    """Save the manual sync offset between demonstration and reply."""
    if not (roles.is_teacher(actor) or reply.student_id == actor.user_id):
        raise PermissionDenied("You cannot change this reply.", code="forbidden")
    reply.sync_offset_ms = max(-600_000, min(600_000, int(offset_ms)))
    reply.save(update_fields=["sync_offset_ms", "updated_at"])
    return reply


def reply_mark_seen(*, actor, reply: Reply) -> None:
    """The student has seen the feedback on their reply (clears the unread mark)."""
    if reply.student_id == actor.user_id:
        Reply.objects.filter(pk=reply.pk).update(student_seen_at=timezone.now())


# --- Comments -----------------------------------------------------------------------------


def _can_discuss(actor, reply: Reply) -> bool:
    return roles.is_teacher(actor) or reply.student_id == actor.user_id


@transaction.atomic
def comment_create(
    *,
    actor,
    reply: Reply,
    body: str,
    at_ms: int,
    side: str = Comment.Side.REPLY,
    parent: Comment | None = None,
) -> Comment:
    """Add time-coded feedback (or a student's question) at a moment of one side."""
    if not _can_discuss(actor, reply):
        raise PermissionDenied("You cannot comment on this reply.", code="forbidden")
    body = body.strip()
    if not body:
        raise DomainError("Write something first.", code="body_required")
    if len(body) > MAX_COMMENT_LENGTH:
        raise DomainError(
            f"Keep comments under {MAX_COMMENT_LENGTH} characters.", code="body_too_long"
        )
    if side not in Comment.Side.values:
        raise DomainError("Comment on the demonstration or the reply.", code="side_invalid")
    if parent is not None and parent.reply_id != reply.pk:
        raise DomainError("You can only answer a comment on the same reply.", code="parent_invalid")
    if parent is not None and parent.parent_id is not None:
        parent = parent.parent  # one level of threading
    comment = Comment.objects.create(
        reply=reply,
        author=actor.user,
        body=body,
        at_ms=max(0, int(at_ms)),
        side=side,
        parent=parent,
    )
    activity.emit(
        kind="comment_created", actor=actor, reply=reply.public_id, comment=comment.public_id,
        student_id=reply.student_id,
    )
    return comment


@transaction.atomic
def comment_update(*, actor, comment: Comment, body: str) -> Comment:
    """Edit one's own comment."""
    if comment.author_id != actor.user_id:
        raise PermissionDenied("You can only edit your own comments.", code="forbidden")
    body = body.strip()
    if not body:
        raise DomainError("Write something first.", code="body_required")
    comment.body = body[:MAX_COMMENT_LENGTH]
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at", "updated_at"])
    return comment


@transaction.atomic
def comment_delete(*, actor, comment: Comment) -> None:
    """Delete one's own comment (and its answers)."""
    if comment.author_id != actor.user_id:
        raise PermissionDenied("You can only delete your own comments.", code="forbidden")
    comment.delete()
