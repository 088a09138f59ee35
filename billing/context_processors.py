"""What every page needs from billing: the pricing page's address (the footer links to it on
every host) and the past-due banner for a tenant's owners and admins
(templates/billing/banner.html)."""

from __future__ import annotations

from billing import selectors
from tenants.hosts import public_url

PRICING_PATH = "/pricing/"  # billing.urls_public's "pricing", on the public site


def billing(request):
    context = {"pricing_url": public_url(PRICING_PATH)}
    membership = getattr(request, "membership", None)
    # Only owners and admins can pay, so only they are told (and only they pay the query).
    if membership is None or not membership.is_admin:
        return context
    entitlements = selectors.entitlements_for_tenant(request.tenant)
    if not entitlements.past_due:
        return context
    return {**context, "billing_past_due": entitlements}
