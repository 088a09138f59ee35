"""A tenant's life: its creation (schema, domain, owner), settings, suspension and the
two-factor requirement its owner may set."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants import hosts, schema_pool, selectors, slugs, tasks
from tenants.errors import DomainError, PermissionDenied, SlugUnavailable
from tenants.mfa import policy as mfa_policy
from tenants.models import ADMIN_ROLES, Domain, Membership, Role, Tenant, User
from tenants.services.auditing import audit


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


def tenant_fields_check(*, name: str, slug: str, kind: str) -> None:
    """Raise DomainError unless a new tenant could have this name, slug and kind."""
    if not name.strip():
        raise DomainError("Give your studio or school a name.", code="name_required")
    if kind not in Tenant.Kind.values:
        raise DomainError("Choose a school or a studio.", code="kind_invalid")
    slug_check(slug=slug)


@transaction.atomic
def tenant_create(*, name: str, slug: str, kind: str, owner: User) -> Tenant:
    """Create a tenant with its schema, domain and owner membership — all or nothing."""
    tenant_fields_check(name=name, slug=slug, kind=kind)
    schema_pool.schema_reserve()
    tenant = Tenant(name=name.strip(), slug=slug, kind=kind)
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
    # The schema may have been a spare: make up for it. Robust: the tenant exists by then, so
    # a broker outage must not turn its sign-up into an error (beat refills later anyway).
    transaction.on_commit(tasks.spare_schemas_refill.delay, robust=True)
    return tenant


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


def _status_set(*, tenant: Tenant, status: str, reason: str) -> None:
    tenant.status = status
    tenant.suspended_at = timezone.now() if status == Tenant.Status.SUSPENDED else None
    tenant.suspension_reason = reason.strip()
    tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, actor: User, reason: str = "") -> Tenant:
    """Suspend a tenant: its users see a notice; nothing is deleted."""
    _status_set(tenant=tenant, status=Tenant.Status.SUSPENDED, reason=reason)
    audit(actor=actor, tenant=tenant, action="tenant.suspended", reason=reason)
    return tenant


@transaction.atomic
def tenant_reactivate(*, tenant: Tenant, actor: User) -> Tenant:
    """Lift a suspension."""
    _status_set(tenant=tenant, status=Tenant.Status.ACTIVE, reason="")
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


@transaction.atomic
def tenant_set_support_access(*, tenant: Tenant, actor: User, allowed: bool) -> Tenant:
    """Let Practika staff act as a member for support (the default), or stop them: switching it
    off also ends any staff session in the tenant at its next request (tenants.impersonation)."""
    membership = selectors.membership_for(user=actor, tenant=tenant)
    if membership is None or membership.role not in ADMIN_ROLES:
        raise PermissionDenied(
            "Only the owner and admins can change support access.", code="forbidden"
        )
    if tenant.support_access != allowed:
        tenant.support_access = allowed
        tenant.save(update_fields=["support_access", "updated_at"])
        audit(
            actor=actor, tenant=tenant, action="tenant.support_access_changed", allowed=allowed
        )
    return tenant
