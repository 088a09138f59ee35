"""Support sessions on a tenant's host (tenants.impersonation): the page where platform staff
start one (who, where, why, and the button), and the school's switch that allows them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tenants import forms, services
from tenants.decorators import forbidden, require_admin
from tenants.services import impersonation as impersonation_services


@require_GET
def support_start(request: HttpRequest, public_id) -> HttpResponse:
    if not request.user.is_authenticated or not request.user.is_staff:
        return forbidden(request, "This page is for Practika staff.")
    impersonation = impersonation_services.impersonation_pending(
        public_id=public_id, staff=request.user, tenant=request.tenant
    )
    if impersonation is None:
        return forbidden(
            request,
            "This support session was already used or has expired. Ask again from the staff area.",
        )
    return render(
        request,
        "tenants/support_start.html",
        {
            "impersonation": impersonation,
            "minutes": impersonation_services.impersonation_minutes(),
        },
    )


@require_admin
@require_POST
def support_access(request: HttpRequest) -> HttpResponse:
    """The school's switch for Practika staff support sessions (owners and admins)."""
    form = forms.SupportAccessForm(request.POST)
    form.is_valid()
    services.tenant_set_support_access(
        tenant=request.tenant,
        actor=request.user,
        allowed=bool(form.cleaned_data.get("support_access")),
    )
    if request.tenant.support_access:
        messages.success(request, "Practika support may act as a member, with a reason.")
    else:
        messages.success(request, "Practika support can no longer act as a member.")
    return redirect("tenants:settings")
