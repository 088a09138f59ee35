"""The billing banner's part of the page chrome (tenants.chrome): whether the tenant is past
due, cached per tenant, dropped whenever one of its subscriptions is written
(billing.models.Subscription.save, and the services' bulk updates)."""

from __future__ import annotations

from billing import selectors
from tenants import chrome

NAME = "billing"


class Banner:
    per_member = False

    @staticmethod
    def load(request) -> selectors.TenantEntitlements | None:
        """The entitlements to show in the past-due banner, or None when all is well."""
        entitlements = selectors.entitlements_for_tenant(request.tenant)
        return entitlements if entitlements.past_due else None


def forget(*, tenant_id: int | None) -> None:
    if tenant_id is not None:
        chrome.forget_part(NAME, tenant_id=tenant_id)
