"""Pages of the public site and of each tenant's host that belong to identity and tenancy."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from tenants import selectors, services
from tenants.errors import DomainError


def public_home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """One membership goes straight in; several get a picker; none get the sign-up choices."""
    memberships = list(selectors.memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect(services.handover_create(user=request.user, tenant=memberships[0].tenant))
    return render(request, "tenants/pick_tenant.html", {"memberships": memberships})


@login_required
def enter_tenant(request: HttpRequest, slug: str) -> HttpResponse:
    membership = selectors.memberships_for_user(user=request.user).filter(tenant__slug=slug).first()
    if membership is None:
        return render(request, "tenants/no_access.html", status=404)
    return redirect(services.handover_create(user=request.user, tenant=membership.tenant))


@require_GET
def handover(request: HttpRequest) -> HttpResponse:
    try:
        ticket = services.handover_redeem(token=request.GET.get("t", ""), tenant=request.tenant)
    except DomainError as error:
        return render(request, "tenants/link_invalid.html", {"message": error.message}, status=400)
    login(request, ticket.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(ticket.next_path)


def tenant_home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/tenant_home.html")


def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/no_access.html", status=403)
