"""Writes of comment recordings: checking one before a comment takes it, and removing the
recordings of deleted comments (rows, then their stored objects after commit)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from learning import roles
from learning.deletion import media_folder, stored_objects_delete_after_commit
from learning.errors import DomainError, PermissionDenied
from learning.models import Comment, MediaFile
from tenants.models import Membership


def comment_media_check(*, member: Membership, media: MediaFile) -> MediaFile:
    """The recording a teacher attaches to a comment, locked: their own comment upload, sent
    (processing or ready, never failed) and not on another comment yet."""
    if not roles.is_teacher(member):
        raise PermissionDenied("Only teachers record comments.", code="teachers_only")
    if media.purpose != MediaFile.Purpose.COMMENT or media.owner_id != member.user_id:
        raise PermissionDenied("This recording cannot be used here.", code="media_forbidden")
    media = MediaFile.objects.select_for_update().get(pk=media.pk)
    if media.state == MediaFile.State.AWAITING_UPLOAD:
        raise DomainError("The recording has not finished uploading.", code="upload_incomplete")
    if media.state == MediaFile.State.FAILED:
        raise DomainError(
            f"This recording cannot be used: {media.error_message or 'it could not be read.'}",
            code="media_failed",
        )
    if Comment.objects.filter(media=media).exists():
        raise DomainError("This recording is on another comment already.", code="media_used")
    return media


def comment_media_ids(comments) -> list[int]:
    """The recordings of these comments (a queryset), to remove once the comments are gone."""
    return list(comments.exclude(media=None).values_list("media_id", flat=True))


@transaction.atomic
def comment_media_remove(*, media_ids: Iterable[int]) -> int:
    """Delete these comment recordings and, after commit, their stored objects."""
    media = list(
        MediaFile.objects.filter(pk__in=list(media_ids), purpose=MediaFile.Purpose.COMMENT)
    )
    if not media:
        return 0
    MediaFile.objects.filter(pk__in=[m.pk for m in media]).delete()
    stored_objects_delete_after_commit([p for p in (media_folder(m) for m in media) if p])
    return len(media)
