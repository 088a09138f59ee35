"""Reads of exports: a member sees only the exports they asked for."""

from __future__ import annotations

from django.db.models import QuerySet

from learning.errors import NotFound
from learning.models import Export
from tenants.models import Membership

RECENT = 10


def exports_for(*, member: Membership, scope: str | None = None) -> QuerySet[Export]:
    """The member's own exports, newest first (of one scope, if given)."""
    exports = Export.objects.filter(requested_by=member.user).select_related("requested_by")
    if scope:
        exports = exports.filter(scope=scope)
    return exports.order_by("-created_at", "-pk")


def export_get(*, member: Membership, public_id) -> Export:
    """One of the member's own exports; anyone else's is NotFound (not even its existence)."""
    export = exports_for(member=member).filter(public_id=public_id).first()
    if export is None:
        raise NotFound("No such export.", code="export_not_found")
    return export
