"""Reads of media files: who may play which recording."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from learning import roles
from learning.errors import NotFound
from learning.exercises import selectors as exercise_selectors
from learning.models import Comment, MediaFile, Reply
from learning.peer_review import selectors as peer_selectors
from learning.querysets import unique_or_none
from learning.replies import selectors as reply_selectors
from tenants.models import Membership


def media_visible_to(*, member: Membership | None) -> QuerySet[MediaFile]:
    """Media a member may play: owners and admins all; teachers every demonstration, their own
    uploads, and the recordings of the replies they may see and of the comments on those (the
    one rule, `learning.replies.selectors.visible_replies`); students their own uploads, their
    replies, the recordings of comments on their replies, the demonstrations of exercises
    assigned to them, and the classmates' replies peer review gave them (learning.peer_review):
    the only way a student's URL to a classmate's recording is signed."""
    if reply_selectors.sees_every_reply(member):
        return MediaFile.objects.all()
    if roles.is_teacher(member):
        visible = reply_selectors.visible_replies(member=member)
        replies = visible.values("media_id")
        notes = Comment.objects.filter(reply__in=visible).exclude(media=None).values("media_id")
        return MediaFile.objects.filter(
            Q(purpose=MediaFile.Purpose.DEMONSTRATION)
            | Q(owner=member.user)
            | Q(pk__in=replies)
            | Q(pk__in=notes)
        )
    if member is None:
        return MediaFile.objects.none()
    user = member.user
    demos = exercise_selectors.exercises_for_student(student=user).values("demo_id")
    replies = Reply.objects.filter(student=user).values("media_id")
    notes = Comment.objects.filter(reply__student=user).exclude(media=None).values("media_id")
    reviewed = peer_selectors.reviewed_media_ids(user=user)
    return MediaFile.objects.filter(
        Q(owner=user) | Q(pk__in=demos) | Q(pk__in=replies) | Q(pk__in=notes) | Q(pk__in=reviewed)
    )


def media_get(*, member: Membership | None, public_id) -> MediaFile:
    media = unique_or_none(MediaFile.objects.filter(public_id=public_id))
    # The uploader polling its own recording while it is processed is the common call, and
    # every rule of media_visible_to lets owners see theirs: one query, not the rule's joins.
    owns = media is not None and member is not None and media.owner_id == member.user_id
    if not owns and (
        media is None or not media_visible_to(member=member).filter(pk=media.pk).exists()
    ):
        raise NotFound("This recording does not exist or is not yours.", code="media_not_found")
    return media
