"""The audit trail: one row per write that people may later ask about (who did what, when,
where from), written by the service that makes the write, inside its transaction.

Where from: `AuditOriginMiddleware` (tenants.middleware) puts the request's client address
(`REMOTE_ADDR`, which the web server sets from `PRACTIKA_TRUSTED_PROXIES`), its user agent and,
while platform staff act as a member, the staff member (tenants.impersonation) into a context
variable for the length of the request, so services need not pass the request around. Work
outside a request (Celery tasks, webhooks processed later, commands) records none.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from tenants.models import AuditEvent, Membership, Tenant, User

USER_AGENT_MAX = 255


@dataclass
class Origin:
    ip_address: str | None = None
    user_agent: str = ""
    impersonator_id: int | None = None


_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "audit_origin", default=None
)


def origin_begin(*, ip_address: str | None, user_agent: str) -> contextvars.Token:
    """Start recording events with this origin (a request's); pass the token to origin_end."""
    try:
        address = str(ipaddress.ip_address(ip_address)) if ip_address else None
    except ValueError:  # a unix socket's peer, say: not an address to record
        address = None
    return _origin.set(Origin(ip_address=address, user_agent=user_agent[:USER_AGENT_MAX]))


def origin_end(token: contextvars.Token) -> None:
    _origin.reset(token)


def origin_current() -> Origin | None:
    return _origin.get()


def origin_impersonated_by(user_id: int | None) -> None:
    """Mark the rest of this request as done by platform staff `user_id` acting as a member."""
    origin = _origin.get()
    if origin is not None:
        origin.impersonator_id = user_id


def _event(*, actor: User | None, tenant: Tenant | None, action: str, data: dict) -> AuditEvent:
    origin = _origin.get() or Origin()
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        tenant=tenant,
        action=action,
        data=data,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        impersonator_id=origin.impersonator_id,
    )


def audit(*, actor: User | None, tenant: Tenant | None, action: str, **data) -> AuditEvent:
    """Record that `actor` did `action` (in `tenant`, if any), with details in `data`.

    `action` is one of tenants.audit_actions; `data` must be JSON (strings, numbers, lists).
    """
    event = _event(actor=actor, tenant=tenant, action=action, data=data)
    event.save()
    return event


def audit_for_tenants_of(*, user: User, action: str, **data) -> list[AuditEvent]:
    """Record `action` about `user`'s own account in every tenant they belong to (two-factor
    changes: each school's admins see them), in one INSERT."""
    tenants: Iterable[Tenant] = (
        membership.tenant
        for membership in Membership.objects.filter(user=user).select_related("tenant")
    )
    events = [_event(actor=user, tenant=tenant, action=action, data=data) for tenant in tenants]
    return AuditEvent.objects.bulk_create(events)


def import_record(
    *,
    actor: User | None,
    tenant: Tenant,
    source: str,
    created: int,
    updated: int = 0,
    skipped: int = 0,
    error: str = "",
) -> AuditEvent:
    """The hook an import (a roster from a CSV or a school's system) calls in its transaction:
    what it read from `source` and what it made of it, or why it failed."""
    if error:
        return audit(actor=actor, tenant=tenant, action="import.failed", source=source, error=error)
    return audit(
        actor=actor,
        tenant=tenant,
        action="import.completed",
        source=source,
        created=created,
        updated=updated,
        skipped=skipped,
    )
