"""Student accounts without email (tenants.models.ManagedAccount): made, renamed, reset and
removed by the school's teachers, signed in with a personal code (PIN) on the school's host.

Which teacher may manage which student (their own classes' students) is learning's to say:
classes live in the tenant's schema. These services check that the actor teaches here.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from tenants.errors import DomainError, PermissionDenied
from tenants.models import (
    MANAGED_EMAIL_DOMAIN,
    TEACHING_ROLES,
    ManagedAccount,
    Membership,
    Role,
    Tenant,
    User,
)
from tenants.services.auditing import audit

PIN_DIGITS = 6
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class SignInRefused(DomainError):
    status_code = 400


def _require_teacher(*, tenant: Tenant, actor: User) -> None:
    if not Membership.objects.filter(tenant=tenant, user=actor, role__in=TEACHING_ROLES).exists():
        raise PermissionDenied("Only the school's teachers manage these accounts.", "forbidden")


def _new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def _username_from(full_name: str) -> str:
    # Letters without their accents ("Zoë Ångström" is zoe.angstrom), not dropped.
    plain = unicodedata.normalize("NFKD", full_name.strip().lower())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    base = re.sub(r"[^a-z0-9]+", ".", plain).strip(".")[:30] or "student"
    return base if len(base) > 1 else f"{base}.student"


def _free_username(*, tenant: Tenant, base: str) -> str:
    """`base`, or `base` with the first number that makes it free here (two Mia Youngs)."""
    taken = set(
        ManagedAccount.objects.filter(tenant=tenant, username__istartswith=base).values_list(
            "username", flat=True
        )
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate


@transaction.atomic
def managed_student_create(
    *, tenant: Tenant, actor: User, full_name: str, username: str = ""
) -> tuple[ManagedAccount, str]:
    """Make a student account without email; return it with its first personal code."""
    _require_teacher(tenant=tenant, actor=actor)
    full_name = full_name.strip()
    if not full_name:
        raise DomainError("Give the student's name.", code="name_required")
    username = username.strip().lower()[:40] or _free_username(
        tenant=tenant, base=_username_from(full_name)
    )
    if not USERNAME_PATTERN.match(username):
        raise DomainError(
            "A username has 2 to 40 letters, digits, dots, dashes or underscores.",
            code="username_invalid",
        )
    taken = ManagedAccount.objects.filter(tenant=tenant, username__iexact=username)
    if taken.exists():
        raise DomainError(f"The username {username} is taken here.", code="username_taken")
    user = User(email=f"{tenant.slug}.{username}@{MANAGED_EMAIL_DOMAIN}", full_name=full_name)
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, tenant=tenant, role=Role.STUDENT)
    pin = _new_pin()
    account = ManagedAccount.objects.create(
        user=user, tenant=tenant, username=username, pin_hash=make_password(pin), created_by=actor
    )
    audit(
        actor=actor,
        tenant=tenant,
        action="managed_student.created",
        member=str(user.public_id),
        username=username,
    )
    return account, pin


@transaction.atomic
def managed_pin_reset(*, account: ManagedAccount, actor: User) -> str:
    """Give the student a new personal code (which also lifts a lock); return it."""
    _require_teacher(tenant=account.tenant, actor=actor)
    pin = _new_pin()
    account.pin_hash = make_password(pin)
    account.failed_attempts = 0
    account.locked_at = None
    account.save(update_fields=["pin_hash", "failed_attempts", "locked_at", "updated_at"])
    audit(
        actor=actor,
        tenant=account.tenant,
        action="managed_student.pin_reset",
        member=str(account.user.public_id),
    )
    return pin


@transaction.atomic
def managed_student_rename(*, account: ManagedAccount, actor: User, full_name: str) -> None:
    """Change the name the student is shown and picked by (the username stays)."""
    _require_teacher(tenant=account.tenant, actor=actor)
    full_name = full_name.strip()
    if not full_name:
        raise DomainError("Give the student's name.", code="name_required")
    account.user.full_name = full_name[:150]
    account.user.save(update_fields=["full_name"])
    audit(
        actor=actor,
        tenant=account.tenant,
        action="managed_student.renamed",
        member=str(account.user.public_id),
    )


@transaction.atomic
def managed_student_remove(*, account: ManagedAccount, actor: User) -> None:
    """End the account: it can no longer sign in, and the membership goes. Its replies stay
    in the school (their media rows protect the user row), as for any removed member."""
    _require_teacher(tenant=account.tenant, actor=actor)
    user = account.user
    audit(
        actor=actor,
        tenant=account.tenant,
        action="managed_student.removed",
        member=str(user.public_id),
        username=account.username,
    )
    Membership.objects.filter(user=user, tenant=account.tenant).delete()
    user.is_active = False
    user.save(update_fields=["is_active"])
    account.delete()


def managed_signin(*, account: ManagedAccount, pin: str, ip: str | None) -> User:
    """The account's user if `pin` is its personal code; else SignInRefused. After
    PRACTIKA_MANAGED_PIN_MAX_FAILURES wrong codes in a row the account locks until a teacher
    gives it a new code."""
    with transaction.atomic():
        account = (
            ManagedAccount.objects.select_for_update().select_related("user").get(pk=account.pk)
        )
        if account.is_locked:
            raise SignInRefused(
                "This account is locked after too many wrong codes. Ask your teacher for a new "
                "code.",
                code="account_locked",
            )
        still_member = Membership.objects.filter(user=account.user, tenant=account.tenant)
        if (
            check_password(pin.strip(), account.pin_hash)
            and account.user.is_active
            # Removed from the portal's members page, the account no longer signs in either.
            and still_member.exists()
        ):
            if account.failed_attempts:
                account.failed_attempts = 0
                account.save(update_fields=["failed_attempts", "updated_at"])
            audit(
                actor=account.user,
                tenant=account.tenant,
                action="managed_student.signed_in",
                ip=ip,
            )
            return account.user
        account.failed_attempts += 1
        fields = ["failed_attempts", "updated_at"]
        if account.failed_attempts >= settings.PRACTIKA_MANAGED_PIN_MAX_FAILURES:
            account.locked_at = timezone.now()
            fields.append("locked_at")
        account.save(update_fields=fields)
        audit(
            actor=None,
            tenant=account.tenant,
            action="managed_student.locked" if account.locked_at else "managed_student.failed",
            member=str(account.user.public_id),
            ip=ip,
        )
    # Raised after the transaction so the count and the audit entry are kept.
    if account.locked_at:
        raise SignInRefused(
            "That code is not right, and this account is now locked. Ask your teacher for a new "
            "code.",
            code="account_locked",
        )
    raise SignInRefused("That code is not right. Try again.", code="pin_wrong")
