"""Deleting data on request: a whole tenant (after a grace period), one member, one account.

A tenant's deletion is asked for by an owner and scheduled `PRACTIKA_TENANT_DELETION_GRACE_DAYS`
ahead; until then the tenant is closed to its members (tenants.middleware) and an owner may
cancel or platform staff restore it, with nothing lost. When it is due, the beat task purges
it: the other apps' parts first (the Stripe subscription, the stored objects; each is safe to
run again), then the schema and every public row that points at the tenant, in one
transaction, and the owners get a receipt.

The other apps take part through the modules named in `PRACTIKA_DATA_DELETION_HOOKS` (tenants
imports no other app), each of which may define:

- `tenant_purge(*, tenant) -> dict[str, int]`: remove what the app keeps of a tenant outside
  its schema (billing: Stripe and its rows; learning: the storage prefix); counts back.
- `member_purge(*, member, comments: str) -> dict[str, int]`: run inside the member's tenant,
  remove (or, for comments, anonymise) what the app keeps of that member there.
- `account_kept(*, user) -> str`: a reason to keep an account that belongs to no tenant
  any more (a personal subscription), or "".
- `events_purge(*, event_ids) -> dict[str, int]`: run inside a tenant whose activity events
  (learning's outbox) are being deleted, by retention: remove what the app made of them
  (analytics: the notifications they sent).

What is kept after a purge, and why: the audit events of the deletion itself (requested,
cancelled, restored, purged), detached from the tenant and naming it only by its public id,
as the record that the owner asked for it and that it was done; nothing else of the tenant.
Invoices stay in Stripe, with the customer, for accounting (billing.deletion).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants import hosts, selectors
from tenants.errors import DomainError, PermissionDenied
from tenants.models import AuditEvent, CommentsOnDeletion, Membership, Role, Tenant, User
from tenants.services.auditing import audit
from tenants.services.members import (
    _require_another_owner,
    _students_changed,
    require_admin,
)
from tenants.storage import tenant_storage_prefix

logger = logging.getLogger(__name__)

# The audit events kept, detached, after a tenant is purged: the record of its deletion.
DELETION_RECORD_ACTIONS = frozenset(
    {
        "tenant.deletion_requested",
        "tenant.deletion_cancelled",
        "tenant.restored",
        "tenant.purged",
    }
)


def grace_days() -> int:
    return settings.PRACTIKA_TENANT_DELETION_GRACE_DAYS


def _hooks() -> list:
    return [import_module(path) for path in getattr(settings, "PRACTIKA_DATA_DELETION_HOOKS", [])]


def _require_owner(*, tenant: Tenant, actor: User) -> Membership:
    membership = selectors.membership_for(user=actor, tenant=tenant)
    if membership is None or membership.role != Role.OWNER:
        raise PermissionDenied(
            "Only an owner can delete this school or studio, or cancel its deletion.",
            code="forbidden",
        )
    return membership


def _owner_emails(tenant: Tenant) -> list[str]:
    return list(
        Membership.objects.filter(tenant=tenant, role=Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _deletion_clear(tenant: Tenant) -> None:
    tenant.deletion_requested_at = None
    tenant.deletion_due_at = None
    tenant.deletion_requested_by = None
    tenant.save(
        update_fields=[
            "deletion_requested_at",
            "deletion_due_at",
            "deletion_requested_by",
            "updated_at",
        ]
    )


def _require_within_grace(tenant: Tenant) -> None:
    if not tenant.is_closing:
        raise DomainError("No deletion is scheduled.", code="deletion_not_requested")
    # Past the date the purge may be running (it deletes storage and cancels Stripe before its
    # transaction): stopping it then could leave a tenant without its recordings.
    if tenant.deletion_due_at <= timezone.now():
        raise DomainError(
            "The grace period is over: the deletion is under way.", code="deletion_under_way"
        )


# --- A tenant: request, cancel, restore ---------------------------------------------------


@transaction.atomic
def tenant_deletion_request(
    *, tenant: Tenant, actor: User, confirmation: str, now: datetime | None = None
) -> Tenant:
    """Schedule `tenant`'s deletion after the grace period; the owner types its address name
    (`confirmation`) to confirm. Closed to members from now on."""
    _require_owner(tenant=tenant, actor=actor)
    if tenant.is_closing:
        raise DomainError(
            f"Deletion is already scheduled for {tenant.deletion_due_at:%-d %B %Y}.",
            code="deletion_already_requested",
        )
    if confirmation.strip().lower() != tenant.slug:
        raise DomainError(
            f"Type “{tenant.slug}” exactly to confirm the deletion.", code="confirmation_mismatch"
        )
    now = now or timezone.now()
    tenant.deletion_requested_at = now
    tenant.deletion_due_at = now + timedelta(days=grace_days())
    tenant.deletion_requested_by = actor
    tenant.save(
        update_fields=[
            "deletion_requested_at",
            "deletion_due_at",
            "deletion_requested_by",
            "updated_at",
        ]
    )
    audit(
        actor=actor,
        tenant=tenant,
        action="tenant.deletion_requested",
        due_at=tenant.deletion_due_at.isoformat(),
    )
    context = {
        "tenant": tenant,
        "due_at": tenant.deletion_due_at,
        "manage_url": hosts.tenant_url(tenant.slug, "/manage/deletion/"),
    }
    recipients = _owner_emails(tenant)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{tenant.name} will be deleted on {context['due_at']:%-d %B %Y}",
            message=render_to_string("tenants/email/deletion_scheduled.txt", context),
            from_email=None,
            recipient_list=recipients,
        ),
        robust=True,
    )
    return tenant


@transaction.atomic
def tenant_deletion_cancel(*, tenant: Tenant, actor: User) -> Tenant:
    """An owner takes back the deletion during the grace period; the tenant reopens as it was."""
    _require_owner(tenant=tenant, actor=actor)
    _require_within_grace(tenant)
    due = tenant.deletion_due_at
    _deletion_clear(tenant)
    audit(actor=actor, tenant=tenant, action="tenant.deletion_cancelled", due_at=due.isoformat())
    return tenant


@transaction.atomic
def tenant_restore(*, tenant: Tenant, actor: User, reason: str = "") -> Tenant:
    """Platform staff stop a scheduled deletion (the owner asked support, say): everything comes
    back, since nothing is deleted before the grace period ends."""
    if not actor.is_staff:
        raise PermissionDenied("Only Practika staff can restore a tenant.", code="forbidden")
    _require_within_grace(tenant)
    due = tenant.deletion_due_at
    _deletion_clear(tenant)
    audit(
        actor=actor,
        tenant=tenant,
        action="tenant.restored",
        due_at=due.isoformat(),
        reason=reason.strip(),
    )
    return tenant


# --- A tenant: the purge ------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    tenant_public_id: str
    counts: dict[str, int]


def _branding_delete(tenant: Tenant) -> int:
    """The tenant's own files in the default storage (its logos), under the same prefix."""
    prefix = tenant_storage_prefix(tenant).rstrip("/")
    deleted = 0

    def walk(folder: str) -> None:
        nonlocal deleted
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return
        for name in files:
            default_storage.delete(f"{folder}/{name}")
            deleted += 1
        for name in folders:
            walk(f"{folder}/{name}")

    walk(prefix)
    return deleted


def tenant_purge(*, tenant: Tenant, now: datetime | None = None) -> PurgeResult:
    """Delete a tenant whose grace period is over: its Stripe subscription and stored objects
    (the hooks), its schema, every public row that points at it, and the accounts that belonged
    to it alone; the owners get a receipt. Safe to run again after a failure part-way."""
    now = now or timezone.now()
    tenant.refresh_from_db()
    if not tenant.is_closing or tenant.deletion_due_at > now:
        raise DomainError("This tenant's deletion is not due.", code="deletion_not_due")
    public_id = str(tenant.public_id)
    counts: dict[str, int] = {}
    # Outside the database's transaction first: each step can be run again, and the tenant stays
    # closed until the last one has worked.
    for hook in _hooks():
        if hasattr(hook, "tenant_purge"):
            counts |= hook.tenant_purge(tenant=tenant)
    counts["branding_files"] = _branding_delete(tenant)

    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if tenant is None:  # another run purged it meanwhile
            return PurgeResult(tenant_public_id=public_id, counts=counts)
        if not tenant.is_closing or tenant.deletion_due_at > now:  # restored meanwhile
            raise DomainError("This tenant's deletion is not due.", code="deletion_not_due")
        recipients = _owner_emails(tenant)
        context = {
            "name": tenant.name,
            "kind": tenant.get_kind_display().lower(),
            "requested_at": tenant.deletion_requested_at,
            "purged_at": now,
        }
        member_ids = list(
            Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True)
        )
        counts["members"] = len(member_ids)
        counts["invitations"] = tenant.invitations.count()
        record = {
            "tenant_public_id": public_id,
            "kind": tenant.kind,
            "requested_at": tenant.deletion_requested_at.isoformat(),
            "due_at": tenant.deletion_due_at.isoformat(),
        }
        for event in AuditEvent.objects.filter(tenant=tenant, action__in=DELETION_RECORD_ACTIONS):
            event.tenant = None
            event.data = {**event.data, "tenant_public_id": public_id}
            event.save(update_fields=["tenant", "data"])
        counts["audit_events"] = AuditEvent.objects.filter(tenant=tenant).delete()[0]
        # The schema (DROP SCHEMA … CASCADE) and, through Django's cascade, the domains,
        # memberships, invitations and login handovers. PostgreSQL refuses to drop a table with
        # deferred constraint checks still pending in this transaction: run them first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        tenant.delete(force_drop=True)
        counts["accounts"] = sum(
            1
            for user in User.objects.filter(pk__in=member_ids)
            if account_delete_if_unused(user=user)
        )
        audit(actor=None, tenant=None, action="tenant.purged", **record, counts=counts)
        transaction.on_commit(
            lambda: send_mail(
                subject=f"{context['name']} has been deleted from Practika",
                message=render_to_string(
                    "tenants/email/deletion_receipt.txt", {**context, "counts": counts}
                ),
                from_email=None,
                recipient_list=recipients,
            ),
            robust=True,
        )
    logger.info("tenant %s purged: %s", public_id, counts)
    return PurgeResult(tenant_public_id=public_id, counts=counts)


def tenants_due_for_purge(*, now: datetime | None = None) -> models.QuerySet[Tenant]:
    now = now or timezone.now()
    return Tenant.objects.filter(deletion_due_at__lte=now).order_by("deletion_due_at")


def activity_events_purge(*, event_ids: list[int]) -> dict[str, int]:
    """The apps' part of deleting these activity events of the current tenant (the hooks'
    `events_purge`): what they made of them goes too; counts back."""
    counts: dict[str, int] = {}
    if event_ids:
        for hook in _hooks():
            if hasattr(hook, "events_purge"):
                counts |= hook.events_purge(event_ids=event_ids)
    return counts


# --- A member -----------------------------------------------------------------------------


def member_delete(*, membership: Membership, actor: User) -> dict[str, int]:
    """Remove a member and delete what they made in the tenant: their replies and recordings,
    and their comments as the school's policy says (anonymised or deleted). The member asks
    for it themselves, or an owner or admin does it. Their account goes too when it belongs to
    no other tenant. The school's other data is untouched."""
    tenant = membership.tenant
    if actor.pk != membership.user_id:
        acting = require_admin(tenant=tenant, actor=actor)
        if membership.role == Role.OWNER and acting.role != Role.OWNER:
            raise PermissionDenied("Only an owner can remove an owner.", code="forbidden")
    if membership.role == Role.OWNER:
        _require_another_owner(membership)
    user = membership.user
    counts: dict[str, int] = {}
    with transaction.atomic():
        with tenant_context(tenant):
            for hook in _hooks():
                if hasattr(hook, "member_purge"):
                    counts |= hook.member_purge(
                        member=membership, comments=tenant.member_comments_on_deletion
                    )
        audit(
            actor=actor,
            tenant=tenant,
            action="member.deleted",
            member=str(user.public_id),
            role=membership.role,
            comments=tenant.member_comments_on_deletion,
            counts=counts,
            by_self=actor.pk == user.pk,
        )
        membership.delete()
        if membership.role == Role.STUDENT:
            _students_changed(tenant)
        counts["account"] = int(account_delete_if_unused(user=user))
    return counts


# --- An account ---------------------------------------------------------------------------


def _public_model(model: type[models.Model]) -> bool:
    return apps.get_app_config(model._meta.app_label).name in settings.SHARED_APPS


def account_delete_if_unused(*, user: User) -> bool:
    """Delete `user`'s account if it belongs to no tenant, is not platform staff's, and no hook
    keeps it; whether it went. Their public rows go with it (or lose the link to it)."""
    if user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exists():
        return False
    for hook in _hooks():
        if hasattr(hook, "account_kept") and (reason := hook.account_kept(user=user)):
            logger.info("account %s kept: %s", user.public_id, reason)
            return False
    public_id = str(user.public_id)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _account_delete(user)
    except IntegrityError:
        # Rows in some tenant's schema still name this person (content kept after an earlier
        # plain removal): the account stays rather than break that tenant's data.
        logger.info("account %s kept: still referenced in a tenant schema", public_id)
        return False
    finally:
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    audit(actor=None, tenant=None, action="account.deleted", user=public_id)
    return True


def _account_delete(user: User) -> None:
    # Django's collector would look for the user's rows in tenant tables, which the public
    # schema does not have; so the public rows are handled here, one relation at a time, and
    # the row itself is deleted with the constraints checked at once (a tenant schema's rows
    # that still point at it raise IntegrityError inside the caller's savepoint).
    user.groups.clear()
    user.user_permissions.clear()
    # Hidden relations too (related_name="+": audit events, invitations, login handovers).
    for relation in User._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete) or relation.many_to_many:
            continue
        model = relation.related_model
        if not _public_model(model):
            continue
        rows = model._base_manager.filter(**{relation.field.name: user.pk})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{relation.field.name: None})
        else:
            rows.delete()
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(User._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [user.pk])  # noqa: S608


# --- The school's data policies -----------------------------------------------------------

MAX_RETENTION_DAYS = 10 * 366


@transaction.atomic
def tenant_data_policy_set(
    *, tenant: Tenant, actor: User, member_comments: str, reply_retention_days: int | None
) -> Tenant:
    """Set what a deleted member's comments become and how many days after a class ends its
    replies are kept (None: until someone deletes them). Owners and admins."""
    require_admin(tenant=tenant, actor=actor)
    if member_comments not in CommentsOnDeletion.values:
        raise DomainError(
            "Choose what happens to a deleted member's comments.", code="policy_invalid"
        )
    if reply_retention_days is not None and not 0 <= reply_retention_days <= MAX_RETENTION_DAYS:
        raise DomainError(
            f"Keep replies between 0 and {MAX_RETENTION_DAYS} days after a class ends.",
            code="retention_invalid",
        )
    changed = {}
    if tenant.member_comments_on_deletion != member_comments:
        changed["member_comments_on_deletion"] = member_comments
    if tenant.reply_retention_days != reply_retention_days:
        changed["reply_retention_days"] = reply_retention_days
    if changed:
        for field, value in changed.items():
            setattr(tenant, field, value)
        tenant.save(update_fields=[*changed, "updated_at"])
        audit(actor=actor, tenant=tenant, action="tenant.data_policy_changed", **changed)
    return tenant
