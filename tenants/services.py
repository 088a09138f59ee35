"""Writes to tenants, users, memberships and invitations.

Each service takes the acting user where there is one, runs in a transaction, leaves an
audit entry, and queues side effects (email) only after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string

from tenants import hosts, selectors, slugs
from tenants.errors import DomainError, InvitationInvalid, PermissionDenied, SlugUnavailable
from tenants.mfa import policy as mfa_policy
from tenants.models import (
    ADMIN_ROLES,
    AuditEvent,
    Domain,
    Invitation,
    Membership,
    Role,
    Tenant,
    User,
    new_join_code,
)


def audit(*, actor: User | None, tenant: Tenant | None, action: str, **data) -> None:
    AuditEvent.objects.create(actor=actor, tenant=tenant, action=action, data=data)


# --- Tenants ------------------------------------------------------------------------------


def slug_check(*, slug: str) -> None:
    """Raise SlugUnavailable, with a suggestion, if `slug` cannot be a new tenant's subdomain."""
    reason = slugs.problem(slug)
    if reason is None and selectors.slug_is_taken(slug):
        reason = f"“{slug}” is already taken."
    if reason:
        suggestion = selectors.suggest_slug(slug)
        raise SlugUnavailable(
            f"{reason} Try “{suggestion}”.", code="slug_unavailable", suggestion=suggestion
        )


@transaction.atomic
def tenant_create(*, name: str, slug: str, kind: str, owner: User) -> Tenant:
    """Create a tenant with its schema, domain and owner membership — all or nothing."""
    name = name.strip()
    if not name:
        raise DomainError("Give your studio or school a name.", code="name_required")
    if kind not in Tenant.Kind.values:
        raise DomainError("Choose a school or a studio.", code="kind_invalid")
    slug_check(slug=slug)
    tenant = Tenant(name=name, slug=slug, kind=kind)
    tenant.schema_name = f"t_{tenant.public_id.hex}"
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError as error:  # lost a race for the same slug
        raise SlugUnavailable(
            f"“{slug}” is already taken.", code="slug_unavailable",
            suggestion=selectors.suggest_slug(slug),
        ) from error
    Domain.objects.create(domain=hosts.tenant_hostname(slug), tenant=tenant, is_primary=True)
    Membership.objects.create(user=owner, tenant=tenant, role=Role.OWNER)
    audit(actor=owner, tenant=tenant, action="tenant.created", kind=kind, slug=slug)
    return tenant


@dataclass(frozen=True)
class SignupResult:
    user: User
    tenant: Tenant


@transaction.atomic
def signup_with_tenant(
    *, email: str, password: str, full_name: str, tenant_name: str, slug: str, kind: str
) -> SignupResult:
    """A new user who owns a new studio or school (sign-up's last step: see signup_finish)."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            "An account with this email already exists. Log in to create another studio.",
            code="email_taken",
        )
    user = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="password_invalid") from error
    user.set_password(password)
    user.save()
    tenant = tenant_create(name=tenant_name, slug=slug, kind=kind, owner=user)
    return SignupResult(user=user, tenant=tenant)


# Self-serve sign-up (and sign-up with a join code) happens in two steps, so that it tells
# nobody whether an address has an account: the form's answer is "check your email" for every
# address. A new address gets a signed link that finishes the sign-up (the password is chosen
# there, so the link carries no secret and nothing is stored before it is used); an address
# that has an account gets a notice instead (allauth's "account already exists" mail) and
# nothing else happens. Finishing proves that the person reads the address's mail, like
# allauth's email confirmation, and the address is stored as verified.
SIGNUP_SALT = "practika.signup"
SIGNUP_LINK_MAX_AGE = timedelta(days=2)
JOIN_KIND = "join"


@dataclass(frozen=True)
class PendingSignup:
    """What a sign-up link carries: who signs up, and for which new tenant or join code."""

    email: str
    full_name: str
    kind: str  # a Tenant.Kind, or JOIN_KIND
    tenant_name: str = ""
    slug: str = ""
    tenant: Tenant | None = None  # the tenant to join, for JOIN_KIND
    code: str = ""


def _tenant_fields_check(*, name: str, slug: str, kind: str) -> None:
    if not name.strip():
        raise DomainError("Give your studio or school a name.", code="name_required")
    if kind not in Tenant.Kind.values:
        raise DomainError("Choose a school or a studio.", code="kind_invalid")
    slug_check(slug=slug)


def signup_start(*, email: str, full_name: str, tenant_name: str, slug: str, kind: str) -> None:
    """Self-serve sign-up, step one: email the address a link that finishes it."""
    _tenant_fields_check(name=tenant_name, slug=slug, kind=kind)
    _signup_link_send(
        payload={
            "e": email.strip().lower(), "n": full_name.strip(), "k": kind,
            "t": tenant_name.strip(), "s": slug,
        },
        login_url=hosts.public_url("/accounts/login/"),
        reset_url=hosts.public_url("/accounts/password/reset/"),
        what=f"your {Tenant.Kind(kind).label.lower()} “{tenant_name.strip()}”",
    )


@transaction.atomic
def join_signup_start(*, tenant: Tenant, code: str, email: str, full_name: str) -> None:
    """Sign-up with a join code, step one: email the address a link that finishes it."""
    join_code_check(tenant=tenant, code=code)
    # A full studio says so now, not when the emailed link is opened (it says nothing about
    # the address, so the same answer for every address still holds).
    policy = _membership_policy()
    if policy is not None:
        policy.check_join(tenant=tenant, user=None, role=Role.STUDENT)
    _signup_link_send(
        payload={
            "e": email.strip().lower(), "n": full_name.strip(), "k": JOIN_KIND,
            "j": str(tenant.public_id), "c": code.strip().upper(),
        },
        login_url=hosts.tenant_url(tenant.slug, "/accounts/login/"),
        reset_url=hosts.tenant_url(tenant.slug, "/accounts/password/reset/"),
        what=f"your place at {tenant.name}",
    )


def _signup_link_send(*, payload: dict, login_url: str, reset_url: str, what: str) -> None:
    # Both branches do the same work in the request (sign, render, send after commit), so the
    # answer takes about as long whichever it is.
    email = payload["e"]
    token = signing.dumps(payload, salt=SIGNUP_SALT, compress=True)
    if selectors.user_exists(email=email):
        context = {
            "email": email, "login_url": login_url, "password_reset_url": reset_url,
            "current_site": {"name": "Practika", "domain": settings.BASE_DOMAIN},
        }
        prefix = "account/email/account_already_exists"
    else:
        context = {
            "email": email, "what": what, "full_name": payload["n"],
            "finish_url": hosts.public_url(f"/signup/finish/{token}/"),
            "hours": int(SIGNUP_LINK_MAX_AGE.total_seconds() // 3600),
        }
        prefix = "public/email/signup_finish"
    subject = "".join(render_to_string(f"{prefix}_subject.txt", context).splitlines()).strip()
    message = render_to_string(f"{prefix}_message.txt", context)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[Practika] {subject}", message=message, from_email=None,
            recipient_list=[email],
        )
    )


def signup_pending(*, token: str) -> PendingSignup:
    """The sign-up behind a link, or InvitationInvalid if the link is broken, too old or used
    (its address has an account: the link is what creates it)."""
    invalid = InvitationInvalid(
        "This sign-up link has expired or is not valid. Please sign up again.",
        code="signup_link_invalid",
    )
    try:
        data = signing.loads(
            token, salt=SIGNUP_SALT, max_age=SIGNUP_LINK_MAX_AGE.total_seconds()
        )
    except signing.BadSignature as error:
        raise invalid from error
    if selectors.user_exists(email=data.get("e", "")):
        raise InvitationInvalid(
            "This sign-up link was already used. Log in with your email and password.",
            code="signup_link_used",
        )
    if data.get("k") == JOIN_KIND:
        tenant = Tenant.objects.filter(public_id=data.get("j")).first()
        if tenant is None:
            raise invalid
        return PendingSignup(
            email=data["e"], full_name=data["n"], kind=JOIN_KIND, tenant=tenant, code=data["c"]
        )
    return PendingSignup(
        email=data["e"], full_name=data["n"], kind=data["k"], tenant_name=data["t"],
        slug=data["s"],
    )


@transaction.atomic
def signup_finish(
    *, token: str, password: str, tenant_name: str = "", slug: str = ""
) -> SignupResult:
    """Sign-up, step two (from the emailed link): create the account, then its new tenant or
    its student membership. `tenant_name` and `slug` replace the ones the link carries."""
    from allauth.account.models import EmailAddress

    pending = signup_pending(token=token)
    if pending.kind == JOIN_KIND:
        assert pending.tenant is not None
        membership = join_with_code_signup(
            tenant=pending.tenant, code=pending.code, email=pending.email, password=password,
            full_name=pending.full_name,
        )
        result = SignupResult(user=membership.user, tenant=pending.tenant)
    else:
        result = signup_with_tenant(
            email=pending.email, password=password, full_name=pending.full_name,
            tenant_name=tenant_name or pending.tenant_name, slug=slug or pending.slug,
            kind=pending.kind,
        )
    EmailAddress.objects.create(user=result.user, email=result.user.email, primary=True,
                                verified=True)
    return result


@transaction.atomic
def tenant_update(
    *, tenant: Tenant, actor: User, name: str | None = None, logo: UploadedFile | None = None
) -> Tenant:
    """Rename a tenant or change its logo."""
    fields = []
    if name is not None:
        if not name.strip():
            raise DomainError("The name cannot be empty.", code="name_required")
        tenant.name = name.strip()
        fields.append("name")
    if logo is not None:
        tenant.logo = logo
        fields.append("logo")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])
        audit(actor=actor, tenant=tenant, action="tenant.updated", fields=fields)
    return tenant


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, actor: User, reason: str = "") -> Tenant:
    """Suspend a tenant: its users see a notice; nothing is deleted."""
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_at = timezone.now()
    tenant.suspension_reason = reason.strip()
    tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
    audit(actor=actor, tenant=tenant, action="tenant.suspended", reason=reason)
    return tenant


@transaction.atomic
def tenant_reactivate(*, tenant: Tenant, actor: User) -> Tenant:
    """Lift a suspension."""
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_at = None
    tenant.suspension_reason = ""
    tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
    audit(actor=actor, tenant=tenant, action="tenant.reactivated")
    return tenant


@transaction.atomic
def tenant_require_mfa(*, tenant: Tenant, user: User, required: bool) -> Tenant:
    """Require (or stop requiring) two-factor authentication of owners, admins and teachers."""
    membership = selectors.membership_for(user=user, tenant=tenant)
    if membership is None or membership.role != Role.OWNER:
        raise PermissionDenied(
            "Only an owner can change the two-factor requirement.", code="forbidden"
        )
    if required and not mfa_policy.has_authenticator(user=user):
        # Otherwise the owner would be sent to set it up on their very next page.
        raise DomainError(
            "Set up two-factor authentication for your own account first.",
            code="mfa_not_enrolled",
        )
    if tenant.mfa_required != required:
        tenant.mfa_required = required
        tenant.save(update_fields=["mfa_required", "updated_at"])
        audit(actor=user, tenant=tenant, action="tenant.mfa_required_changed", required=required)
    return tenant


# --- Members ------------------------------------------------------------------------------


def _require_admin(*, tenant: Tenant, actor: User) -> Membership:
    membership = selectors.membership_for(user=actor, tenant=tenant)
    if membership is None or membership.role not in ADMIN_ROLES:
        raise PermissionDenied("Only the owner and admins can manage members.", code="forbidden")
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Give a member another role. The last owner cannot be demoted."""
    acting = _require_admin(tenant=membership.tenant, actor=actor)
    if role not in Role.values:
        raise DomainError("Unknown role.", code="role_invalid")
    if Role.OWNER in (role, membership.role) and acting.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or take away ownership.", code="forbidden")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.filter(tenant=membership.tenant, role=Role.OWNER).count()
        if owners <= 1:
            raise DomainError("A tenant needs at least one owner.", code="last_owner")
    previous = membership.role
    policy = _membership_policy()
    if policy is not None and role != previous:
        policy.check_join(tenant=membership.tenant, user=membership.user, role=role)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    if Role.STUDENT in (role, previous) and role != previous:
        _membership_changed(membership.tenant)
    audit(
        actor=actor, tenant=membership.tenant, action="member.role_changed",
        member=str(membership.user.public_id), previous=previous, role=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """Remove a member; access ends at once, and their content stays in the tenant."""
    acting = _require_admin(tenant=membership.tenant, actor=actor)
    if membership.role == Role.OWNER and acting.role != Role.OWNER:
        raise PermissionDenied("Only an owner can remove an owner.", code="forbidden")
    if membership.role == Role.OWNER and (
        Membership.objects.filter(tenant=membership.tenant, role=Role.OWNER).count() <= 1
    ):
        raise DomainError("A tenant needs at least one owner.", code="last_owner")
    audit(
        actor=actor, tenant=membership.tenant, action="member.removed",
        member=str(membership.user.public_id), role=membership.role,
    )
    membership.delete()
    if membership.role == Role.STUDENT:
        _membership_changed(membership.tenant)


def membership_touch(*, membership: Membership) -> None:
    """Record activity at most every five minutes, so pages do not write on every request."""
    now = timezone.now()
    if membership.last_active_at and now - membership.last_active_at < timedelta(minutes=5):
        return
    Membership.objects.filter(pk=membership.pk).update(last_active_at=now)
    membership.last_active_at = now


def _membership_policy():
    """The object that may refuse a join (plan limits) and hears of changes (seat counts).

    Named by a setting so that tenants imports no other app (billing provides it).
    """
    path = getattr(settings, "PRACTIKA_MEMBERSHIP_POLICY", "")
    return import_string(path) if path else None


def _membership_changed(tenant: Tenant) -> None:
    policy = _membership_policy()
    if policy is not None:
        transaction.on_commit(lambda: policy.changed(tenant=tenant))


def _join(*, user: User, tenant: Tenant, role: str) -> Membership:
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    if membership is not None:
        return membership
    policy = _membership_policy()
    if policy is not None:
        policy.check_join(tenant=tenant, user=user, role=role)
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    if created:
        audit(actor=user, tenant=tenant, action="member.joined", role=role)
        if role == Role.STUDENT:
            _membership_changed(tenant)
    return membership


# --- Invitations --------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, tenant: Tenant, email: str, role: str, actor: User) -> Invitation:
    """Invite someone by email to join as a teacher, admin or student."""
    _require_admin(tenant=tenant, actor=actor)
    email = email.strip().lower()
    if role not in (Role.ADMIN, Role.TEACHER, Role.STUDENT):
        raise DomainError("Invite as an admin, a teacher or a student.", code="role_invalid")
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise DomainError(f"{email} is already a member.", code="already_member")
    invitation = Invitation.objects.create(
        tenant=tenant, email=email, role=role, invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit(actor=actor, tenant=tenant, action="invitation.created", email=email, role=role)
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
    return _join(user=user, tenant=tenant, role=invitation.role)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    """Withdraw a pending invitation."""
    _require_admin(tenant=invitation.tenant, actor=actor)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit(
        actor=actor, tenant=invitation.tenant, action="invitation.revoked", email=invitation.email
    )


@transaction.atomic
def join_code_rotate(*, tenant: Tenant, actor: User) -> str:
    """Issue a new join code; the old one stops working at once."""
    _require_admin(tenant=tenant, actor=actor)
    tenant.join_code = new_join_code()
    tenant.save(update_fields=["join_code", "updated_at"])
    audit(actor=actor, tenant=tenant, action="join_code.rotated")
    return tenant.join_code


@transaction.atomic
def join_with_code(*, tenant: Tenant, code: str, user: User) -> Membership:
    """Join a tenant as a student with its current join code."""
    if not code or code.strip().upper() != tenant.join_code:
        raise InvitationInvalid(
            "That join code is not valid. Check it with your teacher — codes can be renewed.",
            code="join_code_invalid",
        )
    return _join(user=user, tenant=tenant, role=Role.STUDENT)


def join_code_check(*, tenant: Tenant, code: str) -> None:
    """Raise InvitationInvalid unless `code` is the tenant's current join code."""
    if not code or code.strip().upper() != tenant.join_code:
        raise InvitationInvalid(
            "That join code is not valid. Check it with your teacher — codes can be renewed.",
            code="join_code_invalid",
        )


@transaction.atomic
def join_with_code_signup(
    *, tenant: Tenant, code: str, email: str, password: str, full_name: str
) -> Membership:
    """A new person creates an account and joins a tenant as a student with its join code."""
    join_code_check(tenant=tenant, code=code)
    user = user_create(email=email, password=password, full_name=full_name)
    return join_with_code(tenant=tenant, code=code, user=user)


@transaction.atomic
def invitation_accept_with_signup(
    *, token: str, tenant: Tenant, password: str, full_name: str
) -> Membership:
    """A new person accepts an invitation by creating an account with the invited email."""
    invitation = invitation_check(token=token, tenant=tenant)
    user = user_create(email=invitation.email, password=password, full_name=full_name)
    return invitation_accept(token=token, tenant=tenant, user=user)


# --- Users --------------------------------------------------------------------------------


@transaction.atomic
def user_create(*, email: str, password: str, full_name: str = "") -> User:
    """Create an account: one per email address, with a password that passes the validators."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            "An account with this email already exists. Log in instead.", code="email_taken"
        )
    user = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="password_invalid") from error
    user.set_password(password)
    user.save()
    audit(actor=user, tenant=None, action="user.created")
    return user
