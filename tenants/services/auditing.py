"""The audit trail: one row per write that people may later ask about (who did what, where)."""

from __future__ import annotations

from tenants.models import AuditEvent, Tenant, User


def audit(*, actor: User | None, tenant: Tenant | None, action: str, **data) -> None:
    """Record that `actor` did `action` (in `tenant`, if any), with details in `data`."""
    AuditEvent.objects.create(actor=actor, tenant=tenant, action=action, data=data)
