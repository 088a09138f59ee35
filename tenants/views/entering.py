"""Getting into a tenant: after login on the public site (one tenant, a picker, or the sign-up
choices), and the browser-bound login handover to the tenant's host (tenants.handover)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_GET

from tenants import handover as login_handover
from tenants import selectors
from tenants.errors import DomainError
from tenants.mfa import policy as mfa_policy
from tenants.views.common import login_here


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """One membership goes straight in; several get a picker; none get the sign-up choices."""
    memberships = list(selectors.memberships_for_user(user=request.user))
    if len(memberships) == 1:
        url = login_handover.handover_create(user=request.user, tenant=memberships[0].tenant)
        return redirect(url)
    return render(request, "tenants/pick_tenant.html", {"memberships": memberships})


@login_required
def enter_tenant(request: HttpRequest, slug: str) -> HttpResponse:
    membership = selectors.memberships_for_user(user=request.user).filter(tenant__slug=slug).first()
    if membership is None:
        return render(request, "tenants/no_access.html", status=404)
    return redirect(login_handover.handover_create(user=request.user, tenant=membership.tenant))


@require_GET
def handover_vouch(request: HttpRequest) -> HttpResponse:
    """Public site, step 3 of the handover (tenants.handover): vouch for a ticket only in a
    browser logged in here as its user."""
    try:
        url = login_handover.handover_vouch(
            token=request.GET.get("t", ""), state=request.GET.get("s", ""), user=request.user
        )
    except DomainError as error:
        return render(request, "tenants/link_invalid.html", {"message": error.message}, status=400)
    return redirect(url)


# --- Tenant host -------------------------------------------------------------------------


@require_GET
def handover(request: HttpRequest) -> HttpResponse:
    """Tenant's host, steps 2 and 4 of the handover (tenants.handover)."""
    token = request.GET.get("t", "")
    voucher = request.GET.get("v")
    try:
        if voucher is None:
            ticket = login_handover.handover_skip(
                token=token, tenant=request.tenant, user=request.user
            )
            if ticket is None:
                state = get_random_string(43)
                response = redirect(login_handover.handover_begin_url(token=token, state=state))
                response.set_cookie(
                    login_handover.STATE_COOKIE, state,
                    max_age=settings.LOGIN_HANDOVER_TTL_SECONDS * 2,
                    path=login_handover.STATE_COOKIE_PATH, secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True, samesite="Lax",
                )
                return response
        else:
            ticket = login_handover.handover_redeem(
                token=token, tenant=request.tenant, voucher=voucher,
                state=request.COOKIES.get(login_handover.STATE_COOKIE, ""),
            )
            login_here(request, ticket.user)
            # The public session that vouched was confirmed (tenants.mfa), so this one is.
            mfa_policy.handover_redeemed(request, user=ticket.user)
    except DomainError as error:
        response = render(
            request, "tenants/link_invalid.html", {"message": error.message}, status=400
        )
    else:
        response = redirect(ticket.next_path)
    response.delete_cookie(login_handover.STATE_COOKIE, path=login_handover.STATE_COOKIE_PATH)
    return response


def tenant_home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/tenant_home.html")


def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/no_access.html", status=403)
