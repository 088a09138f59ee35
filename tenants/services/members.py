"""Memberships: roles, removal, activity, and joining (the one path every join takes, past the
membership policy that billing provides)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tenants import chrome, selectors
from tenants.errors import DomainError, PermissionDenied
from tenants.models import ADMIN_ROLES, GuardianConsent, Membership, Role, Tenant, User
from tenants.services.auditing import audit


def require_admin(*, tenant: Tenant, actor: User) -> Membership:
    """`actor`'s membership if they are an owner or admin of `tenant`, else PermissionDenied."""
    membership = selectors.membership_for(user=actor, tenant=tenant)
    if membership is None or membership.role not in ADMIN_ROLES:
        raise PermissionDenied("Only the owner and admins can manage members.", code="forbidden")
    return membership


def membership_policy():
    """The object that may refuse a join (plan limits) and hears of changes (seat counts).

    Named by a setting so that tenants imports no other app (billing provides it).
    """
    path = getattr(settings, "PRACTIKA_MEMBERSHIP_POLICY", "")
    return import_string(path) if path else None


def _students_changed(tenant: Tenant) -> None:
    policy = membership_policy()
    if policy is not None:
        transaction.on_commit(lambda: policy.changed(tenant=tenant))


def _require_another_owner(membership: Membership) -> None:
    owners = Membership.objects.filter(tenant=membership.tenant, role=Role.OWNER).count()
    if owners <= 1:
        raise DomainError("Every school and studio needs at least one owner.", code="last_owner")


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Give a member another role. The last owner cannot be demoted."""
    acting = require_admin(tenant=membership.tenant, actor=actor)
    if role not in Role.values:
        raise DomainError("Unknown role.", code="role_invalid")
    if Role.OWNER in (role, membership.role) and acting.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or take away ownership.", code="forbidden")
    if membership.role == Role.OWNER and role != Role.OWNER:
        _require_another_owner(membership)
    previous = membership.role
    policy = membership_policy()
    if policy is not None and role != previous:
        policy.check_join(tenant=membership.tenant, user=membership.user, role=role)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    if Role.STUDENT in (role, previous) and role != previous:
        _students_changed(membership.tenant)
    audit(
        actor=actor, tenant=membership.tenant, action="member.role_changed",
        member=str(membership.user.public_id), previous=previous, role=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """Remove a member; access ends at once, and their content stays in the tenant."""
    acting = require_admin(tenant=membership.tenant, actor=actor)
    if membership.role == Role.OWNER and acting.role != Role.OWNER:
        raise PermissionDenied("Only an owner can remove an owner.", code="forbidden")
    if membership.role == Role.OWNER:
        _require_another_owner(membership)
    audit(
        actor=actor, tenant=membership.tenant, action="member.removed",
        member=str(membership.user.public_id), role=membership.role,
    )
    membership.delete()
    if membership.role == Role.STUDENT:
        _students_changed(membership.tenant)


def membership_touch(*, membership: Membership) -> bool:
    """Record activity at most every five minutes, so pages do not write on every request.
    Whether it wrote."""
    now = timezone.now()
    if membership.last_active_at and now - membership.last_active_at < timedelta(minutes=5):
        return False
    Membership.objects.filter(pk=membership.pk).update(last_active_at=now)
    membership.last_active_at = now
    # The cached copy carries last_active_at: the next page reads the new one.
    chrome.forget_member(tenant_id=membership.tenant_id, user_id=membership.user_id)
    return True


def membership_join(*, user: User, tenant: Tenant, role: str) -> Membership:
    """`user`'s membership of `tenant`, made with `role` if they had none and the policy allows
    (for invitations and join codes, which check their own credential first)."""
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    if membership is not None:
        return membership
    policy = membership_policy()
    if policy is not None:
        policy.check_join(tenant=tenant, user=user, role=role)
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    if created:
        audit(actor=user, tenant=tenant, action="member.joined", role=role)
        if tenant.kind == Tenant.Kind.STUDIO:
            # A guardian's consent asked for this address follows the account from now on
            # (tenants.services.guardian_consent), whatever address it moves to.
            GuardianConsent.objects.filter(
                tenant=tenant, student__isnull=True, student_email=user.email.lower()
            ).update(student=user)
        for path in getattr(settings, "PRACTIKA_MEMBER_JOINED_HOOKS", ()):
            # Other apps' follow-ups (learning's roster puts the person into their classes).
            hook = import_string(path)
            transaction.on_commit(lambda hook=hook: hook(membership=membership))
        if role == Role.STUDENT:
            _students_changed(tenant)
    return membership
