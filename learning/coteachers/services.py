"""Writes for co-teaching: assigning a reply to a reviewer, and setting a class's teachers. Both
are audited (tenants/audit_actions.py) in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from learning import roles
from learning.coteachers import selectors
from learning.errors import DomainError, PermissionDenied
from learning.models import Classroom, Reply
from learning.replies import selectors as reply_selectors
from tenants.models import TEACHING_ROLES, Membership, User
from tenants.services import audit


@transaction.atomic
def reply_assign(*, member: Membership, reply: Reply, assignee: User | None) -> Reply:
    """Assign a reply (one `member` can see) to a reviewer who can see it too, or to nobody."""
    roles.require_teacher(member)
    if assignee is not None:
        reviewers = selectors.reviewers_for(reply=reply)
        if not reviewers.filter(user_id=assignee.pk).exists():
            raise DomainError(
                f"{assignee.display_name} cannot see this reply: share a class with them first.",
                code="assignee_invalid",
            )
    if reply.assigned_to_id == getattr(assignee, "pk", None):
        return reply
    previous = reply.assigned_to
    reply.assigned_to = assignee
    reply.save(update_fields=["assigned_to", "updated_at"])  # post_save bumps page_parts
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="reply.assigned" if assignee is not None else "reply.unassigned",
        reply=str(reply.public_id),
        assignee=assignee.email if assignee is not None else None,
        previous=previous.email if previous is not None else None,
    )
    return reply


def may_change_teachers(*, member: Membership, classroom: Classroom) -> bool:
    """Owners and admins, and the class's own teachers (its creator among them)."""
    if reply_selectors.sees_every_reply(member):
        return True
    if not roles.is_teacher(member):
        return False
    return (
        classroom.created_by_id == member.user_id
        or classroom.teachers.filter(pk=member.user_id).exists()
    )


@transaction.atomic
def classroom_teachers_set(
    *, member: Membership, classroom: Classroom, teacher_ids: Iterable[int]
) -> set[int]:
    """Set who teaches `classroom`: teaching members of this tenant only; the class keeps at
    least one teacher. Returns the teachers' ids."""
    if not may_change_teachers(member=member, classroom=classroom):
        raise PermissionDenied(
            "Only the class's teachers and the school's admins change who teaches it.",
            code="forbidden",
        )
    wanted = set(
        Membership.objects.filter(
            tenant_id=member.tenant_id, role__in=TEACHING_ROLES, user_id__in=set(teacher_ids)
        ).values_list("user_id", flat=True)
    )
    if not wanted:
        raise DomainError("A class needs at least one teacher.", code="teachers_required")
    before = set(classroom.teachers.values_list("pk", flat=True))
    if wanted == before:
        return before
    classroom.teachers.set(wanted)  # m2m_changed bumps page_parts (who sees which reply)
    emails = dict(User.objects.filter(pk__in=wanted | before).values_list("pk", "email"))
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="classroom.teachers_changed",
        classroom=str(classroom.public_id),
        name=classroom.name,
        added=sorted(emails[pk] for pk in wanted - before),
        removed=sorted(emails[pk] for pk in before - wanted),
    )
    return wanted
