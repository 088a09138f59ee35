"""What analytics does with each committed activity event (named in the
PRACTIKA_ACTIVITY_HANDLERS setting; learning.activity calls it after commit, in the process
that made the change, inside the tenant's schema).

Each step is independent: one failing (an unreachable channel layer, say) does not stop the
others, and the periodic rebuild repairs the rollups whatever happened here.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.urls import reverse

from analytics import live, notifications, rollups, selectors, services
from analytics.integrations import posthog
from analytics.models import Notification
from learning.coteachers import selectors as coteacher_selectors
from learning.models import ActivityEvent, Comment, Exercise, Reply
from learning.peer_review import selectors as peer_selectors

logger = logging.getLogger(__name__)
Kind = ActivityEvent.Kind

# Product analytics names of the events that PostHog hears about.
POSTHOG_EVENTS = {
    Kind.EXERCISE_PUBLISHED: "exercise_published",
    Kind.REPLY_SUBMITTED: "reply_uploaded",
    Kind.COMMENT_CREATED: "comment_created",
    Kind.COMPARE_VIEWED: "compare_viewed",
}


def on_activity(event: ActivityEvent) -> None:
    for step in (_rollups, _invalidate, _notify, _live, _product_analytics):
        try:
            step(event)
        except Exception:
            logger.exception("analytics: %s failed for %s", step.__name__, event.kind)


def _rollups(event: ActivityEvent) -> None:
    rollups.record(event=event)


def _invalidate(event: ActivityEvent) -> None:
    services.dashboards_invalidate()


def _compare_url(reply_public_id) -> str:
    return reverse("learning:compare", args=[reply_public_id])


def _notify(event: ActivityEvent) -> None:
    data = event.data
    key = f"event:{event.pk}"
    actor = event.actor.display_name if event.actor else "Someone"
    if event.kind == Kind.EXERCISE_PUBLISHED:
        exercise = Exercise.objects.filter(public_id=data.get("exercise")).first()
        if exercise is None:
            return
        due = f" Due {exercise.due_at:%a %-d %b, %H:%M} UTC." if exercise.due_at else ""
        notifications.notify(
            recipient_ids=selectors.assigned_student_ids(exercise=exercise),
            kind=Notification.Kind.EXERCISE_ASSIGNED, title=f"New exercise: {exercise.title}",
            body=f"{actor} assigned you “{exercise.title}”.{due}",
            url=reverse("learning:student_exercise", args=[exercise.public_id]),
            dedupe_key=key, event=event,
        )
    elif event.kind == Kind.REPLY_SUBMITTED:
        reply = Reply.objects.select_related("exercise").filter(public_id=data.get("reply")).first()
        if reply is None:
            return
        # Its exercise's creator, its classes' teachers and its reviewer (co-teachers).
        teachers = coteacher_selectors.teachers_of(reply=reply)
        notifications.notify(
            recipient_ids=teachers, kind=Notification.Kind.REPLY_TO_REVIEW,
            title=f"{actor} replied to {reply.exercise.title}",
            body=f"Attempt {reply.attempt} is waiting for your feedback.",
            url=_compare_url(reply.public_id), dedupe_key=key, event=event,
        )
    elif event.kind == Kind.FEEDBACK_GIVEN:
        reply = Reply.objects.select_related("exercise").filter(public_id=data.get("reply")).first()
        if reply is None:
            return
        verdict = "asked you to try again" if reply.status == Reply.Status.TRY_AGAIN else (
            "reviewed your reply"
        )
        notifications.notify(
            recipient_ids=[reply.student_id], kind=Notification.Kind.FEEDBACK_RECEIVED,
            title=f"Feedback on {reply.exercise.title}",
            body=f"{actor} {verdict} (attempt {reply.attempt}).",
            url=_compare_url(reply.public_id), dedupe_key=key, event=event,
        )
    elif event.kind == Kind.COMMENT_CREATED:
        comment = (
            Comment.objects.select_related("reply__exercise")
            .filter(public_id=data.get("comment")).first()
        )
        if comment is None:
            return
        reply = comment.reply
        if comment.author_id == reply.student_id:
            recipients = coteacher_selectors.teachers_of(reply=reply)
        else:
            recipients = {reply.student_id}
            # An anonymous peer reviewer is "Classmate 1" to the reply's student.
            actor = peer_selectors.owner_alias(comment=comment) or actor
        notifications.notify(
            recipient_ids=recipients - {comment.author_id}, kind=Notification.Kind.NEW_COMMENT,
            title=f"{actor} commented on {reply.exercise.title}",
            body=comment.body[:200] or ("A recorded note." if comment.media_id else ""),
            # Opens the compare page at the comment's moment (compare/comments.js).
            url=f"{_compare_url(reply.public_id)}?comment={comment.public_id}",
            dedupe_key=key, event=event,
        )


def comment_payload(comment: Comment) -> dict:
    """A comment as the compare page's API shows it (learning.exercises.apis.CommentOut)."""
    return {
        "public_id": str(comment.public_id),
        "author": {
            "public_id": str(comment.author.public_id),
            "display_name": comment.author.display_name,
        },
        "side": comment.side,
        "at_ms": comment.at_ms,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "parent": str(comment.parent.public_id) if comment.parent_id else None,
        "replies": [],
    }


def _live(event: ActivityEvent) -> None:
    """Open compare pages of the reply show a new comment at once (everyone who may see it)."""
    if event.kind != Kind.COMMENT_CREATED:
        return
    comment = (
        Comment.objects.select_related("author", "parent", "reply__exercise")
        .filter(public_id=event.data.get("comment")).first()
    )
    if comment is None:
        return
    payload = comment_payload(comment)
    student_ids = {comment.reply.student_id}
    # An anonymous peer reviewer's name stays with the teachers (learning.peer_review).
    if alias := peer_selectors.owner_alias(comment=comment):
        live.push(
            user_ids=student_ids,
            payload={
                "type": "comment.created",
                "reply": str(comment.reply.public_id),
                "comment": {**payload, "author": {"public_id": None, "display_name": alias}},
            },
        )
        student_ids = set()
    live.push(
        # Only those who may see the reply (learning's one rule): not every teacher.
        user_ids={
            *student_ids,
            *(m.user_id for m in coteacher_selectors.reviewers_for(reply=comment.reply)),
        },
        payload={
            "type": "comment.created",
            "reply": str(comment.reply.public_id),
            "comment": payload,
        },
    )


def _product_analytics(event: ActivityEvent) -> None:
    name = POSTHOG_EVENTS.get(event.kind)
    if name is None or event.actor is None:
        return
    properties = {
        "role": event.data.get("role"),
        "tenant_kind": connection.tenant.kind,
        **{k: event.data[k] for k in ("exercise", "reply", "comment") if event.data.get(k)},
    }
    posthog.capture(
        event=name, distinct_id=event.actor.public_id, tenant_id=connection.tenant.public_id,
        properties=properties, timestamp=event.occurred_at, uuid=event.public_id,
    )
