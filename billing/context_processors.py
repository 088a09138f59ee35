"""What every page needs from billing: the pricing page's address (the footer links to it on
every host) and the past-due banner for a tenant's owners and admins
(templates/billing/banner.html)."""

from __future__ import annotations

from billing import chrome, selectors
from tenants.hosts import public_url

PRICING_PATH = "/pricing/"  # billing.urls_public's "pricing", on the public site


def billing(request):
    context = {"pricing_url": public_url(PRICING_PATH)}
    membership = getattr(request, "membership", None)
    # Only owners and admins can pay, so only they are told (and only they pay the query).
    if membership is None or not membership.is_admin:
        return context
    page_chrome = getattr(request, "page_chrome", None)
    if page_chrome is None:
        entitlements = selectors.entitlements_for_tenant(request.tenant)
        entitlements = entitlements if entitlements.past_due else None
    else:
        entitlements = page_chrome.part(chrome.NAME, request)  # cached with the chrome
    if entitlements is None:
        return context
    return {**context, "billing_past_due": entitlements}
