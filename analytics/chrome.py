"""The bell's part of the page chrome (tenants.chrome): the member's unread count and latest
notifications, cached per member and tenant, dropped whenever their notifications change
(analytics.notifications)."""

from __future__ import annotations

from django.db import connection

from analytics import selectors
from tenants import chrome
from tenants.models import Tenant

NAME = "bell"


class Bell:
    per_member = True

    @staticmethod
    def load(request) -> selectors.Bell:
        return selectors.bell_for(user=request.user)


def forget(*, user_ids) -> None:
    """The bells of these members of the current tenant (the schema selected now)."""
    tenant_id = getattr(connection.tenant, "pk", None)
    if tenant_id is None:  # selected by schema name only (a FakeTenant)
        tenant_id = (
            Tenant.objects.filter(schema_name=connection.schema_name)
            .values_list("pk", flat=True)
            .first()
        )
    if tenant_id is not None:
        chrome.forget_part(NAME, tenant_id=tenant_id, user_ids=sorted(set(user_ids)))
