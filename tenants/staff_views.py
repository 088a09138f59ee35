"""Practika staff pages on the public site: every tenant, its members, suspension, and restoring
a tenant whose deletion is scheduled."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tenants import forms, hosts, selectors, services
from tenants import handover as login_handover
from tenants.decorators import require_staff
from tenants.errors import DomainError
from tenants.models import Tenant
from tenants.services.impersonation import impersonation_minutes

PAGE_SIZE = 50


def _tenant_or_404(public_id) -> Tenant:
    tenant = selectors.tenant_for_staff(public_id=public_id)
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


@require_staff
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    kind = kind if kind in Tenant.Kind.values else ""
    status = request.GET.get("status", "")
    status = status if status in Tenant.Status.values else ""
    tenants = selectors.tenants_for_staff(search=search, kind=kind, status=status)
    page = Paginator(tenants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "staff/tenant_list.html",
        {
            "page": page, "q": search, "kind": kind, "status": status,
            "kinds": Tenant.Kind.choices, "statuses": Tenant.Status.choices,
        },
    )


@require_staff
@require_GET
def tenant_detail(request: HttpRequest, public_id) -> HttpResponse:
    tenant = _tenant_or_404(public_id)
    return render(
        request, "staff/tenant_detail.html",
        {
            "tenant": tenant,
            "members": selectors.members_for_tenant(tenant=tenant),
            "invitations": selectors.pending_invitations(tenant=tenant),
            "events": selectors.audit_events_for_tenant(tenant=tenant),
            "tenant_url": hosts.tenant_url(tenant.slug),
            "suspend_form": forms.SuspendForm(),
            "restore_form": forms.RestoreForm(),
            "impersonation_minutes": impersonation_minutes(),
        },
    )


@require_staff
@require_POST
def tenant_suspend(request: HttpRequest, public_id) -> HttpResponse:
    tenant = _tenant_or_404(public_id)
    form = forms.SuspendForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.tenant_suspend(tenant=tenant, actor=request.user, reason=reason)
    messages.success(request, f"{tenant.name} is suspended. Its members now see a notice.")
    return redirect("staff:tenant_detail", public_id=tenant.public_id)


@require_staff
@require_POST
def tenant_reactivate(request: HttpRequest, public_id) -> HttpResponse:
    tenant = _tenant_or_404(public_id)
    services.tenant_reactivate(tenant=tenant, actor=request.user)
    messages.success(request, f"{tenant.name} is active again.")
    return redirect("staff:tenant_detail", public_id=tenant.public_id)


@require_staff
@require_POST
def tenant_restore(request: HttpRequest, public_id) -> HttpResponse:
    """Stop a scheduled deletion within its grace period, with a written reason."""
    tenant = _tenant_or_404(public_id)
    form = forms.RestoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for restoring it.")
        return redirect("staff:tenant_detail", public_id=tenant.public_id)
    try:
        services.tenant_restore(
            tenant=tenant, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{tenant.name} is restored: its deletion is cancelled.")
    return redirect("staff:tenant_detail", public_id=tenant.public_id)


@require_staff
@require_POST
def tenant_impersonate(request: HttpRequest, public_id) -> HttpResponse:
    """Act as a member of this tenant, with a written reason (tenants.services.impersonation):
    on to the tenant's host through the login handover, where the session starts."""
    tenant = _tenant_or_404(public_id)
    form = forms.ImpersonateForm(request.POST)
    member = (
        selectors.member_in_tenant(tenant=tenant, public_id=form.cleaned_data["member"])
        if form.is_valid() else None
    )
    if member is None:
        messages.error(request, "Choose a member of this tenant.")
        return redirect("staff:tenant_detail", public_id=tenant.public_id)
    try:
        impersonation = services.impersonation_request(
            staff=request.user, tenant=tenant, member=member, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("staff:tenant_detail", public_id=tenant.public_id)
    # A page with a link rather than a redirect to the tenant's host: browsers apply the
    # production CSP's `form-action 'self'` to every redirect that follows a form's POST.
    return render(request, "staff/impersonation_ready.html", {"impersonation": impersonation})


@require_staff
@require_GET
def impersonation_go(request: HttpRequest, public_id) -> HttpResponse:
    """The link on to the tenant's host: a fresh login handover (it lives a minute) to the page
    there that starts the session."""
    impersonation = selectors.impersonation_pending_for_staff(
        public_id=public_id, staff=request.user
    )
    if impersonation is None:
        messages.error(request, "That support session was already used or has expired.")
        return redirect("staff:tenant_list")
    return redirect(
        login_handover.handover_create(
            user=request.user, tenant=impersonation.tenant,
            next_path=f"/support/{impersonation.public_id}/",
        )
    )
