"""Reads of tenants, memberships and invitations."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from tenants import slugs
from tenants.models import (
    AuditEvent,
    EmailSuppression,
    Impersonation,
    Invitation,
    Membership,
    Role,
    Tenant,
    User,
)


def membership_for(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated or tenant.schema_name == "public":
        return None
    return Membership.objects.filter(user=user, tenant=tenant).first()


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def members_for_tenant(*, tenant: Tenant, role: str | None = None) -> QuerySet[Membership]:
    """The tenant's members with their users; `email_suppressed` is the suppression's reason
    (EmailSuppression.Reason) when we no longer email them, else None. One query."""
    suppression = EmailSuppression.objects.filter(email=Lower(OuterRef("user__email")))
    members = (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .annotate(email_suppressed=Subquery(suppression.values("reason")[:1]))
    )
    if role:
        members = members.filter(role=role)
    return members.order_by("role", "user__email")


def pending_invitations(*, tenant: Tenant) -> QuerySet[Invitation]:
    from django.utils import timezone

    return Invitation.objects.filter(
        tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def slug_is_taken(slug: str) -> bool:
    return Tenant.objects.filter(slug=slug).exists()


def suggest_slug(base: str) -> str:
    """A free slug close to `base`: the base itself, or base-2, base-3, ..."""
    root = slugs.normalize(base) or "studio"
    if len(root) < 3:
        root = f"{root}-studio"
    if slugs.problem(root) and root in slugs.RESERVED_SLUGS:
        root = f"{root}-music"
    root = root[:34].strip("-")
    taken = set(
        Tenant.objects.filter(slug__startswith=root).values_list("slug", flat=True)
    )
    if root not in taken and not slugs.problem(root):
        return root
    n = 2
    while f"{root}-{n}" in taken:
        n += 1
    return f"{root}-{n}"


def tenants_for_staff(*, search: str = "", kind: str = "", status: str = "") -> QuerySet[Tenant]:
    tenants = Tenant.objects.exclude(schema_name="public").annotate(
        member_count=Count("memberships", distinct=True),
        student_count=Count(
            "memberships", filter=Q(memberships__role=Role.STUDENT), distinct=True
        ),
    )
    if search:
        tenants = tenants.filter(
            Q(name__icontains=search) | Q(slug__icontains=search)
            | Q(memberships__user__email__icontains=search)
        ).distinct()
    if kind:
        tenants = tenants.filter(kind=kind)
    if status:
        tenants = tenants.filter(status=status)
    return tenants.order_by("-created_at")


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


def member_in_tenant(*, tenant: Tenant, public_id) -> Membership | None:
    """A membership of `tenant` by its public id; None for any other tenant's membership."""
    return (
        Membership.objects.filter(tenant=tenant, public_id=public_id)
        .select_related("user", "tenant").first()
    )


def invitation_in_tenant(*, tenant: Tenant, public_id) -> Invitation | None:
    return (
        Invitation.objects.filter(tenant=tenant, public_id=public_id)
        .select_related("tenant").first()
    )


def tenant_for_staff(*, public_id) -> Tenant | None:
    return (
        Tenant.objects.exclude(schema_name="public").filter(public_id=public_id)
        .prefetch_related("domains").first()
    )


def audit_events_for_tenant(*, tenant: Tenant, limit: int = 25) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(tenant=tenant).select_related("actor", "impersonator")
        .order_by("-created_at")[:limit]
    )


def audit_events(
    *, tenant: Tenant, action: str = "", actor: str = "", since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """A tenant's audit log, newest first, with its actors (one query however many rows):
    `action` exactly, `actor` as part of the acting person's email, `since` and `until` as
    days (inclusive, in the site's time zone)."""
    events = (
        AuditEvent.objects.filter(tenant=tenant).select_related("actor", "impersonator")
        .order_by("-created_at", "-id")
    )
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor__email__icontains=actor.strip())
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events


def impersonation_pending_for_staff(*, public_id, staff: User) -> Impersonation | None:
    """`staff`'s own support request, if it has not started, ended or expired."""
    from django.utils import timezone

    return (
        Impersonation.objects.select_related("user", "tenant")
        .filter(
            public_id=public_id, staff=staff, started_at__isnull=True, ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
