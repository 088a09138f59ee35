"""Platform staff acting as a member of a tenant, for support (django-hijack does the login).

1. On the staff area, a staff member picks a member and writes why (`impersonation_request`);
   the login handover (tenants.handover) carries the staff member to the tenant's host.
2. There, a page shows who, where and why, and its button posts to hijack's acquire view
   (tenants.impersonation), which logs the browser in as the member (`impersonation_start`:
   the audit log's `staff.impersonation_started`, with the reason).
3. Every request of that session checks the grant (tenants.impersonation.
   ImpersonationMiddleware): past its time limit, or once the school switches support access
   off, the session is logged out (`impersonation_end`: `staff.impersonation_ended`). The
   banner's button ends it sooner.

Never for a tenant with support access off, never as another staff member or a superuser.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants.errors import DomainError, PermissionDenied
from tenants.models import Impersonation, Membership, Tenant, User
from tenants.services.auditing import audit

REASON_MIN_LENGTH = 10


def impersonation_minutes() -> int:
    return int(getattr(settings, "PRACTIKA_IMPERSONATION_MINUTES", 30))


def impersonation_allowed(*, staff: User, user: User, tenant: Tenant) -> None:
    """Raise PermissionDenied unless `staff` may act as `user` in `tenant` now."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied("Only Practika staff can act as a member.", code="forbidden")
    if user.pk == staff.pk:
        raise PermissionDenied("You cannot act as yourself.", code="impersonation_self")
    if user.is_staff or user.is_superuser:
        raise PermissionDenied(
            "Practika staff and superusers cannot be impersonated.", code="impersonation_staff"
        )
    if not user.is_active:
        raise PermissionDenied("That account is deactivated.", code="impersonation_inactive")
    if not tenant.support_access:
        raise PermissionDenied(
            f"{tenant.name} has switched support access off: Practika staff cannot act as "
            "its members.",
            code="support_access_off",
        )
    if not Membership.objects.filter(user=user, tenant=tenant).exists():
        raise PermissionDenied(f"That person is not a member of {tenant.name}.", code="not_member")


@transaction.atomic
def impersonation_request(
    *, staff: User, tenant: Tenant, member: Membership, reason: str
) -> Impersonation:
    """A staff member asks to act as `member`, saying why; it starts on the tenant's host."""
    reason = reason.strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise DomainError(
            "Write why you need to act as this member (at least "
            f"{REASON_MIN_LENGTH} characters): it goes into the school's audit log.",
            code="reason_required",
        )
    if member.tenant_id != tenant.pk:
        raise PermissionDenied(f"That person is not a member of {tenant.name}.", code="not_member")
    impersonation_allowed(staff=staff, user=member.user, tenant=tenant)
    return Impersonation.objects.create(
        staff=staff,
        user=member.user,
        tenant=tenant,
        reason=reason[:2000],
        expires_at=timezone.now() + timedelta(minutes=impersonation_minutes()),
    )


def impersonation_pending(*, public_id, staff: User, tenant: Tenant) -> Impersonation | None:
    """`staff`'s request to act as someone in `tenant`, if it has not started, ended or expired."""
    return (
        Impersonation.objects.select_related("user", "tenant")
        .filter(
            public_id=public_id,
            staff=staff,
            tenant=tenant,
            started_at__isnull=True,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def impersonation_start(*, impersonation: Impersonation) -> Impersonation:
    """The staff member is now acting as the member: its time limit starts, and the school's
    audit log says who, as whom and why."""
    impersonation = (
        Impersonation.objects.select_for_update()
        .select_related("staff", "user", "tenant")
        .get(pk=impersonation.pk)
    )
    now = timezone.now()
    if impersonation.started_at or impersonation.ended_at or impersonation.expires_at <= now:
        raise PermissionDenied(
            "This support session was already used or has expired. Ask again from the staff area.",
            code="impersonation_used",
        )
    impersonation_allowed(
        staff=impersonation.staff, user=impersonation.user, tenant=impersonation.tenant
    )
    impersonation.started_at = now
    impersonation.expires_at = now + timedelta(minutes=impersonation_minutes())
    impersonation.save(update_fields=["started_at", "expires_at"])
    audit(
        actor=impersonation.staff,
        tenant=impersonation.tenant,
        action="staff.impersonation_started",
        member=str(impersonation.user.public_id),
        member_email=impersonation.user.email,
        reason=impersonation.reason,
        until=impersonation.expires_at.isoformat(),
        session=str(impersonation.public_id),
    )
    return impersonation


@transaction.atomic
def impersonation_end(*, impersonation: Impersonation, why: str) -> bool:
    """End a started support session (released, expired or revoked); False if it had ended."""
    impersonation = (
        Impersonation.objects.select_for_update()
        .select_related("staff", "user", "tenant")
        .get(pk=impersonation.pk)
    )
    if impersonation.ended_at is not None:
        return False
    now = timezone.now()
    impersonation.ended_at = min(now, impersonation.expires_at) if why == "expired" else now
    impersonation.end_reason = why
    impersonation.save(update_fields=["ended_at", "end_reason"])
    if impersonation.started_at is not None:
        audit(
            actor=impersonation.staff,
            tenant=impersonation.tenant,
            action="staff.impersonation_ended",
            member=str(impersonation.user.public_id),
            member_email=impersonation.user.email,
            why=why,
            minutes=round(
                (impersonation.ended_at - impersonation.started_at).total_seconds() / 60, 1
            ),
            session=str(impersonation.public_id),
        )
    return True


def impersonations_expire() -> int:
    """End the support sessions past their time limit whose browsers have not come back (so the
    audit log shows the end); how many. Run by beat (tenants.expire_impersonations)."""
    expired = Impersonation.objects.filter(
        started_at__isnull=False, ended_at__isnull=True, expires_at__lte=timezone.now()
    )
    count = 0
    for impersonation in expired:
        count += impersonation_end(impersonation=impersonation, why="expired")
    return count
