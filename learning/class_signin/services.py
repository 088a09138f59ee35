"""Writes for the class sign-in: a class's code, and a class's students without email (made
here and added to the class; their accounts are tenants' ManagedAccount services)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from learning import roles
from learning.models import Classroom
from tenants.models import ManagedAccount, Membership, new_join_code
from tenants.services import audit, managed_accounts

CODE_LENGTH = 6


@dataclass(frozen=True)
class IssuedCode:
    """A student account and the personal code just given to it (shown or printed once)."""

    account: ManagedAccount
    pin: str


@transaction.atomic
def classroom_code_rotate(*, member: Membership, classroom: Classroom) -> str:
    """Give the class a new sign-in code (the old one stops working); return it."""
    roles.require_teacher(member)
    code = new_join_code()[:CODE_LENGTH]
    while Classroom.objects.filter(signin_code=code).exists():
        code = new_join_code()[:CODE_LENGTH]
    classroom.signin_code = code
    classroom.save(update_fields=["signin_code", "updated_at"])
    audit(
        actor=member.user,
        tenant=connection.tenant,
        action="classroom.signin_code_rotated",
        classroom=str(classroom.public_id),
    )
    return code


@transaction.atomic
def classroom_student_create(
    *, member: Membership, classroom: Classroom, full_name: str, username: str = ""
) -> IssuedCode:
    """Make a student account without email in the class; return it with its code."""
    roles.require_teacher(member)
    account, pin = managed_accounts.managed_student_create(
        tenant=connection.tenant, actor=member.user, full_name=full_name, username=username
    )
    classroom.students.add(account.user)
    return IssuedCode(account=account, pin=pin)


@transaction.atomic
def classroom_codes_reissue(
    *, member: Membership, accounts: list[ManagedAccount]
) -> list[IssuedCode]:
    """New personal codes for `accounts` (for their printed cards: only hashes are kept)."""
    roles.require_teacher(member)
    return [
        IssuedCode(
            account=account,
            pin=managed_accounts.managed_pin_reset(account=account, actor=member.user),
        )
        for account in accounts
    ]
