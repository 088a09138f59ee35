"""Reads of the feedback library: what a teacher may pick from (their own saved comments and
the ones shared with the school). Students never see it."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from learning import roles
from learning.errors import NotFound
from learning.models import SavedComment
from tenants.models import ADMIN_ROLES, Membership

SCOPES = ("all", "mine", "shared")
MAX_QUERY = 100


def saved_comments_for(*, member: Membership, q: str = "", scope: str = "all") -> QuerySet:
    """The saved comments `member` may use, most used first; `q` searches their text."""
    roles.require_teacher(member)
    visible = Q(owner_id=member.user_id) | Q(shared=True)
    if scope == "mine":
        visible = Q(owner_id=member.user_id)
    elif scope == "shared":
        visible = Q(shared=True)
    saved = SavedComment.objects.filter(visible).select_related("owner")
    for word in q.split()[:8]:
        saved = saved.filter(body__icontains=word[:MAX_QUERY])
    return saved


def saved_comment_get(*, member: Membership, public_id) -> SavedComment:
    """One saved comment `member` may see (their own or a shared one), else NotFound."""
    saved = saved_comments_for(member=member).filter(public_id=public_id).first()
    if saved is None:
        raise NotFound("This saved comment does not exist.", code="not_found")
    return saved


def may_manage(*, member: Membership, saved: SavedComment) -> bool:
    """Its owner manages a saved comment; a school's owners and admins manage the shared ones."""
    if saved.owner_id is not None and saved.owner_id == member.user_id:
        return True
    return saved.shared and member.role in ADMIN_ROLES
