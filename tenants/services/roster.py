"""Many people at once, for a roster import (learning.roster runs the import; memberships and
invitations are written here, in the public schema, past the same membership policy as any
join)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants.errors import DomainError
from tenants.models import Invitation, Membership, Role, Tenant, User
from tenants.services.invitations import _send_invitation_email
from tenants.services.members import _students_changed, membership_policy, require_admin

SIGN_IN_INVITATION = "invitation"
SIGN_IN_SSO = "sso"


@dataclass(frozen=True)
class RosterEntry:
    email: str  # lower case, checked by the caller
    full_name: str
    role: str  # teacher or student


@transaction.atomic
def members_import(
    *, tenant: Tenant, actor: User, entries: list[RosterEntry], sign_in: str
) -> dict[str, User]:
    """Bring `entries` into `tenant`: invite them by email ("invitation"), or make their
    memberships now, with accounts that have no usable password for people who have none
    ("sso": they sign in with the school's identity provider). People already members or
    already invited are left as they are. The accounts now members, by email."""
    require_admin(tenant=tenant, actor=actor)
    if sign_in not in (SIGN_IN_INVITATION, SIGN_IN_SSO):
        raise DomainError("Choose how people sign in.", code="sign_in_invalid")
    if any(entry.role not in (Role.TEACHER, Role.STUDENT) for entry in entries):
        raise DomainError("A roster brings in teachers and students.", code="role_invalid")
    emails = [entry.email for entry in entries]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    members = set(
        Membership.objects.filter(tenant=tenant, user__email__in=emails).values_list(
            "user__email", flat=True
        )
    )
    entries = [entry for entry in entries if entry.email not in members]
    if sign_in == SIGN_IN_INVITATION:
        _invite(tenant=tenant, actor=actor, entries=entries)
        return {email: users[email] for email in members}

    new_users = [
        User(email=entry.email, full_name=entry.full_name[:150])
        for entry in entries
        if entry.email not in users
    ]
    for user in new_users:
        user.set_unusable_password()
    for user in User.objects.bulk_create(new_users):
        users[user.email] = user
    students = [entry for entry in entries if entry.role == Role.STUDENT]
    policy = membership_policy()
    if policy is not None and students:
        # All at once (the policy's check_joins), under the same lock as a single join.
        policy.check_joins(tenant=tenant, role=Role.STUDENT, count=len(students))
    joined = [
        Membership(user=users[entry.email], tenant=tenant, role=entry.role) for entry in entries
    ]
    Membership.objects.bulk_create(joined)
    if students:
        _students_changed(tenant)
    return {email: users[email] for email in [*members, *(entry.email for entry in entries)]}


def _invite(*, tenant: Tenant, actor: User, entries: list[RosterEntry]) -> None:
    pending = set(
        Invitation.objects.filter(
            tenant=tenant,
            email__in=[entry.email for entry in entries],
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).values_list("email", flat=True)
    )
    expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                tenant=tenant,
                email=entry.email,
                role=entry.role,
                invited_by=actor,
                expires_at=expires_at,
            )
            for entry in entries
            if entry.email not in pending
        ]
    )
    for invitation in invitations:
        transaction.on_commit(lambda pk=invitation.pk: _send_invitation_email(pk))
