"""Writes of replies: a student's attempt, the teacher's review, the sync offset, the student
having seen the feedback, and time-coded comments.

Inside a tenant's schema the tenant is implicit. Services take the acting member (a
`tenants.models.Membership` of the current tenant), check what that member may do, run in a
transaction and queue side effects after commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from billing import services as billing_services
from learning import activity, roles
from learning.alignment import services as alignment_services
from learning.courses import gates
from learning.drawings import shapes
from learning.errors import DomainError, PermissionDenied
from learning.exercises import selectors as exercise_selectors
from learning.feedback_library import services as feedback_library
from learning.lti import services as lti_services
from learning.media_comments import services as media_comment_services
from learning.models import Alignment, Comment, Exercise, MediaFile, Reply, Rubric
from learning.peer_review import services as peer_review_services
from tenants.models import Membership

MAX_COMMENT_LENGTH = 4000
# The grade of a review without a rubric: done, full marks (Reply.score_given of
# score_maximum; a rubric's scores set their own, learning.rubrics). Grade passback sends what
# the reply holds.
REVIEWED_SCORE = (1.0, 1.0)


# --- Replies ------------------------------------------------------------------------------


def _counted_attempts(*, exercise: Exercise, student) -> QuerySet[Reply]:
    """The attempts that use the plan's allowance: every reply whose recording has not failed
    (ready, or still processing and so provisionally counted)."""
    return Reply.objects.filter(exercise=exercise, student=student).exclude(
        media__state=MediaFile.State.FAILED
    )


@transaction.atomic
def reply_create(
    *, member: Membership, exercise: Exercise, media: MediaFile, note: str = ""
) -> Reply:
    """A student's new attempt at an exercise assigned to them, within their plan's attempts.

    A reply whose recording could not be processed is a draft: it uses no attempt, the
    teacher's inbox does not list it, and the next recording the student sends replaces it.
    """
    if not roles.is_student(member):
        raise PermissionDenied("Only students reply to exercises.", code="students_only")
    assigned = exercise_selectors.exercises_for_student(student=member.user)
    visible = assigned.filter(pk=exercise.pk).exists()
    if not visible:
        raise PermissionDenied("This exercise is not assigned to you.", code="not_assigned")
    gates.require_open(member=member, exercise=exercise)  # a course's release or prerequisite
    if media.purpose != MediaFile.Purpose.REPLY or media.owner_id != member.user_id:
        raise PermissionDenied("This recording cannot be used here.", code="media_forbidden")
    # Locked so that processing, which finishes under the same lock, sees this reply once it
    # commits (and announces it), or has finished and left the media ready.
    media = MediaFile.objects.select_for_update().get(pk=media.pk)
    if media.state == MediaFile.State.AWAITING_UPLOAD:
        raise DomainError("The recording has not finished uploading.", code="upload_incomplete")
    if media.state == MediaFile.State.FAILED:
        raise DomainError(
            f"This recording cannot be sent: {media.error_message or 'it could not be read.'} "
            "It does not count as an attempt; choose or record another one.",
            code="media_failed",
        )
    if Reply.objects.filter(media=media).exists():
        raise DomainError("This recording was already sent.", code="media_used")
    # Lock the exercise row so that two simultaneous replies get different attempt numbers.
    Exercise.objects.select_for_update().filter(pk=exercise.pk).first()
    mine = Reply.objects.filter(exercise=exercise, student=member.user)
    # The free plan's attempts per exercise (billing decides; the Student plan has no limit).
    billing_services.check_can_reply(
        tenant=connection.tenant,
        user=member.user,
        attempts_so_far=_counted_attempts(exercise=exercise, student=member.user).count(),
    )
    draft = (
        mine.filter(media__state=MediaFile.State.FAILED)
        .select_related("media")
        .order_by("attempt")
        .first()
    )
    if draft is not None:
        reply = _replace_draft(draft, media=media, note=note)
    else:
        last = mine.aggregate(n=Max("attempt"))["n"] or 0
        reply = Reply.objects.create(
            exercise=exercise,
            student=member.user,
            media=media,
            note=note.strip()[:2000],
            attempt=last + 1,
        )
    if media.is_ready:
        _announce(reply, member=member)
    # Otherwise media_process announces it once the recording is ready.
    alignment_services.alignment_request(reply=reply)
    return reply


def _replace_draft(draft: Reply, *, media: MediaFile, note: str) -> Reply:
    """Put a new recording into a draft whose recording failed; the old files are removed."""
    failed = draft.media
    Alignment.objects.filter(reply=draft).delete()
    draft.media = media
    draft.note = note.strip()[:2000]
    draft.status = Reply.Status.SUBMITTED
    draft.sync_offset_ms = 0
    draft.created_at = timezone.now()  # the inbox orders by when the attempt was sent
    draft.save(
        update_fields=["media", "note", "status", "sync_offset_ms", "created_at", "updated_at"]
    )
    _remove_media(failed)
    return draft


def _remove_media(media: MediaFile) -> None:
    from learning.media import tasks

    prefix = media.source_key.rsplit("/", 1)[0] + "/" if media.source_key else None
    media.delete()
    if prefix:
        transaction.on_commit(lambda: tasks.delete_stored_objects.delay([prefix]))


def _announce(reply: Reply, *, member: Membership) -> None:
    # Sent for real now: classmates' replies to review, and this one to them (peer review).
    if reply.exercise.peer_review_count:
        peer_review_services.peer_reviews_assign(exercise=reply.exercise)
    activity.emit(
        kind="reply_submitted",
        member=member,
        exercise=reply.exercise.public_id,
        reply=reply.public_id,
        student_id=reply.student_id,
    )


def reply_recording_ready(*, reply: Reply) -> None:
    """The reply's recording has been processed: it is now an attempt to review, and the
    teacher hears of it. Called by media_process, in its transaction, once per recording."""
    member = (
        Membership.objects.select_related("user")
        .filter(user_id=reply.student_id, tenant__schema_name=connection.schema_name)
        .first()
    )
    if member is not None:
        _announce(reply, member=member)


@transaction.atomic
def reply_delete(*, member: Membership, reply: Reply) -> None:
    """The student deletes a draft: one of their replies whose recording failed."""
    if reply.student_id != member.user_id:
        raise PermissionDenied("You can only delete your own drafts.", code="forbidden")
    reply = Reply.objects.select_for_update().select_related("media").get(pk=reply.pk)
    if reply.media.state != MediaFile.State.FAILED:
        raise DomainError(
            "Only a draft whose recording failed can be deleted; sent attempts stay for your "
            "teacher.",
            code="reply_not_draft",
        )
    media = reply.media
    comment_media = media_comment_services.comment_media_ids(reply.comments.all())
    reply.delete()
    _remove_media(media)
    media_comment_services.comment_media_remove(media_ids=comment_media)


@transaction.atomic
def reply_review(*, member: Membership, reply: Reply, status: str) -> Reply:
    """Mark a reply reviewed, or ask the student to try again."""
    roles.require_teacher(member)
    if status not in (Reply.Status.REVIEWED, Reply.Status.TRY_AGAIN):
        raise DomainError("Mark the reply reviewed or ask to try again.", code="status_invalid")
    reply.status = status
    reply.reviewed_at = timezone.now()
    reply.reviewed_by = member.user
    # With a rubric the grade is its scores' (learning.rubrics); until then there is none.
    has_rubric = Rubric.objects.filter(exercise_id=reply.exercise_id).exists()
    if status == Reply.Status.REVIEWED and reply.score_given is None and not has_rubric:
        reply.score_given, reply.score_maximum = REVIEWED_SCORE
    reply.save(
        update_fields=[
            "status",
            "reviewed_at",
            "reviewed_by",
            "score_given",
            "score_maximum",
            "updated_at",
        ]
    )
    lti_services.score_queue(reply=reply)
    activity.emit(
        kind="feedback_given",
        member=member,
        reply=reply.public_id,
        student_id=reply.student_id,
        status=status,
    )
    return reply


@transaction.atomic
def reply_set_sync_offset(*, member: Membership, reply: Reply, offset_ms: int) -> Reply:
    """Save the manual sync offset between demonstration and reply."""
    if not (roles.is_teacher(member) or reply.student_id == member.user_id):
        raise PermissionDenied("You cannot change this reply.", code="forbidden")
    reply.sync_offset_ms = max(-600_000, min(600_000, int(offset_ms)))
    reply.save(update_fields=["sync_offset_ms", "updated_at"])
    return reply


def reply_mark_seen(*, member: Membership, reply: Reply) -> None:
    """The student has seen the feedback on their reply (clears the unread mark)."""
    if reply.student_id == member.user_id:
        # No page_parts.bump(): no cached part or read shows the mark (the student's replies
        # list, which does, is not cached), and students open their feedback several times a
        # minute in a school: each bump made every cached read of the tenant miss.
        Reply.objects.filter(pk=reply.pk).update(student_seen_at=timezone.now())


# --- Comments -----------------------------------------------------------------------------


def _can_discuss(member: Membership, reply: Reply) -> bool:
    return roles.is_teacher(member) or reply.student_id == member.user_id


@transaction.atomic
def comment_create(
    *,
    member: Membership,
    reply: Reply,
    body: str,
    at_ms: int,
    side: str = Comment.Side.REPLY,
    parent: Comment | None = None,
    drawing: list | None = None,
    saved_comments: Iterable = (),
    media: MediaFile | None = None,
) -> Comment:
    """Add time-coded feedback (or a student's question) at a moment of one side, with the
    marks a teacher drew on that frame; counts a use of each saved comment it was made from.
    A teacher's may carry a voice or video recording (learning.media_comments), with or
    without text; a classmate given the reply to review comments as a peer
    (learning.peer_review)."""
    if parent is not None and parent.parent_id is not None:
        parent = parent.parent  # one level of threading
    review = None
    if not _can_discuss(member, reply):
        review = peer_review_services.can_comment(member=member, reply=reply, parent=parent)
    if media is not None:
        media = media_comment_services.comment_media_check(member=member, media=media)
    body = body.strip()
    if not body and media is None:
        raise DomainError("Write a comment first.", code="body_required")
    if len(body) > MAX_COMMENT_LENGTH:
        raise DomainError(
            f"Keep comments under {MAX_COMMENT_LENGTH} characters.", code="body_too_long"
        )
    if side not in Comment.Side.values:
        raise DomainError("Comment on the demonstration or the reply.", code="side_invalid")
    if parent is not None and parent.reply_id != reply.pk:
        raise DomainError("You can only answer a comment on the same reply.", code="parent_invalid")
    marks = _clean_drawing(member=member, reply=reply, side=side, parent=parent, drawing=drawing)
    comment = Comment.objects.create(
        reply=reply,
        author=member.user,
        body=body,
        at_ms=max(0, int(at_ms)),
        side=side,
        parent=parent,
        drawing=marks,
        media=media,
    )
    feedback_library.saved_comments_used(member=member, public_ids=saved_comments)
    if review is not None:
        peer_review_services.peer_comment_record(comment=comment, review=review)
    activity.emit(
        kind="comment_created",
        member=member,
        reply=reply.public_id,
        comment=comment.public_id,
        student_id=reply.student_id,
    )
    return comment


def _clean_drawing(*, member, reply, side, parent, drawing) -> list[dict]:
    if not drawing:
        return []
    if not roles.is_teacher(member):
        raise PermissionDenied("Only teachers draw on the picture.", code="drawing_forbidden")
    if parent is not None:
        raise DomainError("Draw on a comment, not on an answer.", code="drawing_invalid")
    media = reply.media if side == Comment.Side.REPLY else reply.exercise.demo
    if media is None or not media.has_video:
        raise DomainError("This side has no picture to draw on.", code="drawing_invalid")
    try:
        return shapes.clean_drawing(drawing)
    except shapes.DrawingInvalid as error:
        raise DomainError(str(error), code="drawing_invalid") from error


@transaction.atomic
def comment_update(*, member: Membership, comment: Comment, body: str) -> Comment:
    """Edit one's own comment."""
    if comment.author_id != member.user_id:
        raise PermissionDenied("You can only edit your own comments.", code="forbidden")
    body = body.strip()
    if not body and comment.media_id is None:
        raise DomainError("Write a comment first.", code="body_required")
    comment.body = body[:MAX_COMMENT_LENGTH]
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at", "updated_at"])
    return comment


@transaction.atomic
def comment_delete(*, member: Membership, comment: Comment) -> None:
    """Delete one's own comment (and its answers), with their recordings."""
    if comment.author_id != member.user_id:
        raise PermissionDenied("You can only delete your own comments.", code="forbidden")
    thread = Comment.objects.filter(Q(pk=comment.pk) | Q(parent=comment))
    media_ids = media_comment_services.comment_media_ids(thread)
    comment.delete()
    media_comment_services.comment_media_remove(media_ids=media_ids)
