"""The past-due banner for a tenant's owners and admins (templates/billing/banner.html)."""

from __future__ import annotations

from billing import chrome, selectors


def billing(request):
    membership = getattr(request, "membership", None)
    # Only owners and admins can pay, so only they are told (and only they pay the query).
    if membership is None or not membership.is_admin:
        return {}
    page_chrome = getattr(request, "page_chrome", None)
    if page_chrome is None:
        entitlements = selectors.entitlements_for_tenant(request.tenant)
        entitlements = entitlements if entitlements.past_due else None
    else:
        entitlements = page_chrome.part(chrome.NAME, request)  # cached with the chrome
    if entitlements is None:
        return {}
    return {"billing_past_due": entitlements}
