"""Reads for co-teaching: who may review a reply, who may teach a class, open work per teacher.
Each is one query whatever the number of rows."""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from learning.errors import NotFound
from learning.models import Classroom, Reply
from learning.replies import selectors as reply_selectors
from tenants.models import ADMIN_ROLES, TEACHING_ROLES, Membership, User


def teaching_members() -> QuerySet[Membership]:
    """The current tenant's owners, admins and teachers, by name."""
    return (
        Membership.objects.filter(tenant_id=connection.tenant.pk, role__in=TEACHING_ROLES)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def _sees(reply: Reply) -> Exists:
    return Exists(
        Reply.objects.filter(pk=reply.pk).filter(reply_selectors.teacher_sees(OuterRef("user_id")))
    )


def reviewers_for(*, reply: Reply) -> QuerySet[Membership]:
    """The teaching members who can see `reply` (the visibility rule, evaluated per member in
    SQL): the people it can be assigned to, and who hear of its new comments live."""
    return teaching_members().filter(Q(role__in=ADMIN_ROLES) | _sees(reply))


def teachers_of(*, reply: Reply) -> set[int]:
    """The user ids of the teaching members the reply is theirs to review: its exercise's
    creator, the teachers of its classes, its assignee (not every admin, who sees all)."""
    return set(teaching_members().filter(_sees(reply)).values_list("user_id", flat=True))


def reviewer_get(*, reply: Reply, public_id) -> User:
    member = reviewers_for(reply=reply).filter(user__public_id=public_id).first()
    if member is None:
        raise NotFound(
            "That teacher does not exist here or cannot see this reply.", code="assignee_invalid"
        )
    return member.user


def classroom_teacher_ids(*, classroom: Classroom) -> set[int]:
    return set(classroom.teachers.values_list("pk", flat=True))


def open_work(*, tenant):
    """Per teaching member: replies waiting that they can see, those assigned to them, and
    the oldest one's sending time (learning.replies.selectors.open_work_per_teacher)."""
    return reply_selectors.open_work_per_teacher(tenant=tenant)


def classroom_get(*, public_id) -> Classroom:
    classroom = Classroom.objects.filter(public_id=public_id).first()
    if classroom is None:
        raise NotFound("That class does not exist.", code="classroom_not_found")
    return classroom


def assignee_get(*, value: str):
    """An inbox's `assignee` filter: "me", "unassigned", or a teaching member's public id."""
    if value in (reply_selectors.ME, reply_selectors.UNASSIGNED):
        return value
    member = teaching_members().filter(user__public_id=value).first()
    if member is None:
        raise NotFound("That teacher does not exist here.", code="assignee_not_found")
    return member.user


def classrooms_for_filter() -> QuerySet[Classroom]:
    return Classroom.objects.order_by("name").only("public_id", "name")
