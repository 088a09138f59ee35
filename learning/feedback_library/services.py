"""Writes of the feedback library: a teacher's saved comments, shared with the school or not,
and the count of comments created from each."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from learning import roles
from learning.errors import DomainError, PermissionDenied
from learning.feedback_library.selectors import may_manage, saved_comments_for
from learning.models import SavedComment
from tenants.models import Membership

MAX_BODY = 4000
MAX_USED_AT_ONCE = 10  # saved comments one new comment may be made from


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the comment to save first.", code="body_required")
    if len(body) > MAX_BODY:
        raise DomainError(f"Keep saved comments under {MAX_BODY} characters.", code="body_too_long")
    return body


@transaction.atomic
def saved_comment_create(*, member: Membership, body: str, shared: bool = False) -> SavedComment:
    """Save a comment in the member's library (shared with the school's teachers if asked)."""
    roles.require_teacher(member)
    return SavedComment.objects.create(owner=member.user, body=_clean_body(body), shared=shared)


@transaction.atomic
def saved_comment_update(
    *,
    member: Membership,
    saved: SavedComment,
    body: str | None = None,
    shared: bool | None = None,
) -> SavedComment:
    """Change a saved comment's text or whether the school shares it."""
    roles.require_teacher(member)
    if not may_manage(member=member, saved=saved):
        raise PermissionDenied(
            "Only its author, or the school's owners and admins, can change this saved comment.",
            code="forbidden",
        )
    fields = ["updated_at"]
    if body is not None:
        saved.body = _clean_body(body)
        fields.append("body")
    if shared is not None and shared != saved.shared:
        if not shared and saved.owner_id is None:
            raise DomainError(
                "Its author has left the school: keep it shared or delete it.",
                code="owner_gone",
            )
        saved.shared = shared
        fields.append("shared")
    saved.save(update_fields=fields)
    return saved


@transaction.atomic
def saved_comment_delete(*, member: Membership, saved: SavedComment) -> None:
    """Remove a saved comment (comments made from it keep their text)."""
    roles.require_teacher(member)
    if not may_manage(member=member, saved=saved):
        raise PermissionDenied(
            "Only its author, or the school's owners and admins, can delete this saved comment.",
            code="forbidden",
        )
    saved.delete()


def saved_comments_used(*, member: Membership, public_ids: Iterable) -> int:
    """Count one use of each saved comment a new comment was made from (inside the comment's
    transaction). Ids the member may not use (another teacher's private ones, or one deleted
    since it was inserted) are passed over: the comment itself is what matters."""
    ids = list(dict.fromkeys(public_ids))[:MAX_USED_AT_ONCE]
    if not ids or not roles.is_teacher(member):
        return 0
    usable = saved_comments_for(member=member).filter(public_id__in=ids).values("pk")
    # No cached list shows saved comments: this update needs no page_parts.bump().
    return SavedComment.objects.filter(pk__in=usable).update(
        use_count=F("use_count") + 1, last_used_at=timezone.now()
    )


def saved_comments_purge(*, user_id: int) -> int:
    """A departing member's library: their private saved comments go, the shared ones stay
    for the school without an author (learning.deletion)."""
    deleted = SavedComment.objects.filter(owner_id=user_id, shared=False).delete()[0]
    SavedComment.objects.filter(owner_id=user_id).update(owner=None)
    return deleted
