"""Product analytics of public-schema facts: `signed_up`, `tenant_created`, `plan_changed`.

tenants and billing may not import analytics, and their services would need a new hook to
call out. Instead a periodic task reads what they already store (User.date_joined,
Tenant.created_at, billing's SubscriptionChange history) since its last run and captures
those. Each event's PostHog uuid is derived from the row it describes, so a window read twice
(after a lost cursor) is deduplicated by PostHog's ingestion rather than counted twice.
The events of the core loop are captured as they commit (analytics.handlers).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from analytics.integrations import posthog
from billing.models import SubscriptionChange
from tenants.models import Membership, Tenant, User

CURSOR_KEY = "analytics:posthog:public-cursor"
# Without a cursor (first run, flushed cache) look back this far.
DEFAULT_LOOKBACK = timedelta(hours=1)
NAMESPACE = uuid.UUID("5b7c1a52-8f3e-4f7e-9d56-6c7f2f1f0a11")


def _event_uuid(*parts) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def _new(queryset, cursor: dict, name: str, time_field: str, since: datetime):
    """Rows after the cursor's id (ids only grow); by time when there is no cursor."""
    if name in cursor:
        return queryset.filter(pk__gt=cursor[name])
    return queryset.filter(**{f"{time_field}__gt": since})


def public_events_capture(*, now: datetime | None = None) -> int:
    """Capture what happened in the public schema since the last run; returns the count."""
    now = now or timezone.now()
    cursor = dict(cache.get(CURSOR_KEY) or {})
    since = now - DEFAULT_LOOKBACK
    count = 0
    users = list(_new(User.objects.all(), cursor, "user", "date_joined", since).order_by("pk"))
    first_tenant = {
        m.user_id: m.tenant.public_id
        for m in Membership.objects.filter(user__in=users).select_related("tenant")
        .order_by("-created_at")
    }
    for user in users:
        count += posthog.capture(
            event="signed_up", distinct_id=user.public_id, tenant_id=first_tenant.get(user.pk),
            timestamp=user.date_joined, uuid=_event_uuid("signed_up", user.public_id),
        )
        cursor["user"] = user.pk
    tenants = list(
        _new(Tenant.objects.exclude(schema_name="public"), cursor, "tenant", "created_at", since)
        .order_by("pk")
    )
    owners = {
        m.tenant_id: m.user.public_id
        for m in Membership.objects.filter(tenant__in=tenants, role="owner").select_related("user")
        .order_by("-created_at")
    }
    for tenant in tenants:
        count += posthog.capture(
            event="tenant_created", distinct_id=owners.get(tenant.pk, tenant.public_id),
            tenant_id=tenant.public_id, properties={"tenant_kind": tenant.kind},
            timestamp=tenant.created_at, uuid=_event_uuid("tenant_created", tenant.public_id),
        )
        cursor["tenant"] = tenant.pk
    changes = _new(SubscriptionChange.objects.all(), cursor, "change", "at", since)
    for change in changes.select_related("subscription__tenant", "subscription__user").order_by(
        "pk"
    ):
        subscription = change.subscription
        tenant, user = subscription.tenant, subscription.user
        count += posthog.capture(
            event="plan_changed",
            # A tenant's plan belongs to the tenant; a student's own plan to the student.
            distinct_id=user.public_id if user else f"tenant:{tenant.public_id}",
            tenant_id=tenant.public_id if tenant else None,
            properties={
                "plan": change.plan_code, "status": change.status, "quantity": change.quantity,
            },
            timestamp=change.at, uuid=_event_uuid("plan_changed", change.pk),
        )
        cursor["change"] = change.pk
    for name, model in (("user", User), ("tenant", Tenant), ("change", SubscriptionChange)):
        if name not in cursor:  # nothing new: start from the newest row next time
            last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
            cursor[name] = last or 0
    cache.set(CURSOR_KEY, cursor, timeout=None)
    return count
