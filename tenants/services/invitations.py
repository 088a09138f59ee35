"""Invitations by email: sent by owners and admins, accepted once by the invited address."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from tenants import hosts
from tenants.errors import DomainError, InvitationInvalid, PermissionDenied
from tenants.models import Invitation, Membership, Role, Tenant, User
from tenants.services.auditing import audit
from tenants.services.members import membership_join, require_admin
from tenants.services.users import user_create


@transaction.atomic
def invitation_create(*, tenant: Tenant, email: str, role: str, actor: User) -> Invitation:
    """Invite someone by email to join as a teacher, admin or student."""
    require_admin(tenant=tenant, actor=actor)
    email = email.strip().lower()
    if role not in (Role.ADMIN, Role.TEACHER, Role.STUDENT):
        raise DomainError("Invite as an admin, a teacher or a student.", code="role_invalid")
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise DomainError(f"{email} is already a member.", code="already_member")
    invitation = Invitation.objects.create(
        tenant=tenant, email=email, role=role, invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit(
        actor=actor, tenant=tenant, action="invitation.created", email=email, role=role,
        invitation=str(invitation.public_id),
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation.pk))
    return invitation


def _send_invitation_email(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("tenant", "invited_by").get(pk=invitation_id)
    context = {
        "invitation": invitation,
        "tenant": invitation.tenant,
        "accept_url": hosts.tenant_url(
            invitation.tenant.slug, f"/invitations/{invitation.token}/"
        ),
    }
    send_mail(
        subject=f"You're invited to {invitation.tenant.name} on Practika",
        message=render_to_string("tenants/email/invitation.txt", context),
        html_message=render_to_string("tenants/email/invitation.html", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_check(*, token: str, tenant: Tenant) -> Invitation:
    """The invitation behind `token`, or InvitationInvalid saying why it cannot be used."""
    invitation = Invitation.objects.filter(token=token, tenant=tenant).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid.", code="invitation_unknown")
    if invitation.accepted_at:
        raise InvitationInvalid(
            "This invitation has already been used. Log in, or ask for a new one.",
            code="invitation_used",
        )
    if invitation.revoked_at:
        raise InvitationInvalid("This invitation was withdrawn.", code="invitation_revoked")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            "This invitation has expired. Ask your teacher or school for a new one.",
            code="invitation_expired",
        )
    return invitation


def invitation_is_for(*, invitation: Invitation, user: User) -> bool:
    """Whether `user`'s address is the one the invitation was sent to (case does not matter)."""
    return user.email.strip().casefold() == invitation.email.strip().casefold()


@transaction.atomic
def invitation_accept(*, token: str, tenant: Tenant, user: User) -> Membership:
    """Accept an invitation as `user`, who must have the invited address; it works once.

    The link travels by email and may be forwarded or logged: holding it proves nothing, so
    only the account of the address it was sent to may use it.
    """
    invitation = invitation_check(token=token, tenant=tenant)
    if not invitation_is_for(invitation=invitation, user=user):
        raise PermissionDenied(
            f"This invitation is for {invitation.email}, and you are logged in as {user.email}. "
            f"Log out, then log in (or create your account) as {invitation.email} to accept it.",
            code="invitation_email_mismatch",
        )
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:  # accepted by a concurrent request
        raise InvitationInvalid("This invitation has already been used.", code="invitation_used")
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = membership_join(user=user, tenant=tenant, role=invitation.role)
    audit(
        actor=user, tenant=tenant, action="invitation.accepted", email=invitation.email,
        role=invitation.role, invitation=str(invitation.public_id),
    )
    return membership


@transaction.atomic
def invitation_accept_with_signup(
    *, token: str, tenant: Tenant, password: str, full_name: str
) -> Membership:
    """A new person accepts an invitation by creating an account with the invited email."""
    invitation = invitation_check(token=token, tenant=tenant)
    user = user_create(email=invitation.email, password=password, full_name=full_name)
    return invitation_accept(token=token, tenant=tenant, user=user)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    """Withdraw a pending invitation."""
    require_admin(tenant=invitation.tenant, actor=actor)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit(
        actor=actor, tenant=invitation.tenant, action="invitation.revoked", email=invitation.email
    )
