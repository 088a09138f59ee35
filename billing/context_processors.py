"""The past-due banner for a tenant's owners and admins (templates/billing/banner.html)."""

from __future__ import annotations

from billing import selectors


def billing(request):
    membership = getattr(request, "membership", None)
    # Only owners and admins can pay, so only they are told (and only they pay the query).
    if membership is None or not membership.is_admin:
        return {}
    entitlements = selectors.entitlements_for_tenant(request.tenant)
    if not entitlements.past_due:
        return {}
    return {"billing_past_due": entitlements}
