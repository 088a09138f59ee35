"""Reads of replies and comments. Each selector does its own joins so that a page's query count
does not grow with its rows. Students see only their own replies; teachers see every reply in
their tenant."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from learning import roles
from learning.errors import NotFound
from learning.models import Comment, MediaFile, Reply
from learning.peer_review import selectors as peer_selectors
from learning.querysets import unique_or_none
from tenants.models import Membership


def _visible_to(member: Membership, *, reviewed: bool = False) -> QuerySet[Reply]:
    replies = Reply.objects.select_related("exercise", "exercise__demo", "media", "student")
    if roles.is_teacher(member):
        # A reply whose recording failed is the student's draft, not an attempt to see.
        return replies.exclude(media__state=MediaFile.State.FAILED)
    if reviewed:  # and the classmates' replies peer review gave them (learning.peer_review)
        return replies.filter(
            Q(student=member.user) | Q(pk__in=peer_selectors.reviewed_reply_ids(user=member.user))
        )
    return replies.filter(student=member.user)


def replies_visible_to(*, member: Membership) -> QuerySet[Reply]:
    # Counted by a subquery on the comment index rather than by joining every comment and
    # grouping by the five tables' keys (docs/scaling.md).
    comments = (
        Comment.objects.filter(reply=OuterRef("pk"))
        .order_by()
        .values("reply")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return _visible_to(member).annotate(
        comment_count=Coalesce(Subquery(comments, output_field=IntegerField()), 0)
    )


def attempts_listed(*, member: Membership, exercise) -> QuerySet[Reply]:
    """One exercise's replies as its student's page lists them, newest first: each with its
    recording and comment count, without the exercise and the student the page already has."""
    return (
        replies_visible_to(member=member)
        .filter(exercise=exercise)
        .select_related(None)
        .select_related("media")
        .order_by("-attempt")
    )


def reply_get(*, member: Membership, public_id) -> Reply:
    # The same visibility as the lists without their per-row comment count: one reply needs
    # no GROUP BY over five tables' columns (a third of the compare page's CPU went to building
    # and running it; docs/scaling.md). A student also gets the classmates' replies peer review
    # gave them to review, and nothing else of anyone's (the lists stay their own).
    reply = unique_or_none(_visible_to(member, reviewed=True).filter(public_id=public_id))
    if reply is None:
        raise NotFound("This reply does not exist or is not yours.", code="not_found")
    return reply


def replies_awaiting_feedback() -> QuerySet[Reply]:
    """The teacher's inbox: submitted replies whose recording is ready to review, oldest
    first (never one still processing or a student's failed draft)."""
    return (
        Reply.objects.filter(status=Reply.Status.SUBMITTED, media__state=MediaFile.State.READY)
        .select_related("exercise", "media", "student")
        .order_by("created_at")
    )


def attempts_of(*, reply: Reply) -> QuerySet[Reply]:
    return (
        Reply.objects.filter(exercise=reply.exercise, student=reply.student)
        .select_related("media")
        .order_by("attempt")
    )


def comments_for_reply(*, reply: Reply) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(reply=reply, parent__isnull=True)
        .select_related("author", "media")
        .prefetch_related(
            Prefetch("children", queryset=Comment.objects.select_related("author", "media"))
        )
        .order_by("at_ms", "created_at")
    )
