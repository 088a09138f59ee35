"""Reads for the class sign-in: which class a code opens, and which student accounts without
email a member may manage (a teacher their own classes' students, an admin everyone's)."""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import QuerySet

from learning.errors import NotFound
from learning.models import Classroom
from tenants.models import ManagedAccount, Membership


def classroom_for_code(*, code: str) -> Classroom | None:
    code = code.strip().upper()
    if not code:
        return None
    return Classroom.objects.filter(signin_code=code).first()


def classrooms_managed_by(*, member: Membership) -> QuerySet[Classroom]:
    """The classes whose sign-in `member` manages: an admin's are all; a teacher's, their own."""
    classes = Classroom.objects.all()
    if not member.is_admin:
        classes = classes.filter(created_by_id=member.user_id)
    return classes


def classroom_managed(*, member: Membership, public_id) -> Classroom:
    classroom = classrooms_managed_by(member=member).filter(public_id=public_id).first()
    if classroom is None:
        raise NotFound("This class does not exist.", code="class_not_found")
    return classroom


def accounts_in_classroom(*, classroom: Classroom) -> list[ManagedAccount]:
    """The class's students without email, by name (two queries, whatever their number)."""
    user_ids = list(classroom.students.values_list("id", flat=True))
    return sorted(
        ManagedAccount.objects.filter(
            tenant=connection.tenant, user_id__in=user_ids
        ).select_related("user"),
        key=lambda account: (account.user.full_name.casefold(), account.username),
    )


def account_managed(*, member: Membership, public_id) -> ManagedAccount:
    """A student account without email that `member` may manage; NotFound otherwise (a teacher
    of another class gets the same answer as for an account that does not exist)."""
    account = (
        ManagedAccount.objects.filter(tenant=connection.tenant, public_id=public_id)
        .select_related("user", "tenant")
        .first()
    )
    if account is None or not (
        member.is_admin
        or classrooms_managed_by(member=member).filter(students=account.user_id).exists()
    ):
        raise NotFound("This student does not exist.", code="student_not_found")
    return account


def account_in_classroom(*, classroom: Classroom, pick: str) -> ManagedAccount | None:
    """The class's student without email named by `pick`: a public id from the class list, or
    a typed username."""
    accounts = ManagedAccount.objects.filter(
        tenant=connection.tenant, user__in=classroom.students.all()
    ).select_related("user", "tenant")
    pick = pick.strip()
    try:
        public_id = uuid.UUID(pick)
    except ValueError:
        return accounts.filter(username__iexact=pick).first()
    return accounts.filter(public_id=public_id).first()


def classroom_for_id(*, public_id) -> Classroom | None:
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return Classroom.objects.filter(public_id=public_id).first()
