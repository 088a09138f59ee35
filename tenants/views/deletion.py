"""Deletion pages on a tenant's host: the owner deletes the school or studio (typed
confirmation, a grace period, cancellable), a member deletes their own data here, an owner or
admin removes a member with their data, and the school's data policies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenants import forms, hosts, selectors, services
from tenants.decorators import forbidden, require_admin
from tenants.errors import DomainError
from tenants.models import Role
from tenants.services.deletion import grace_days


@require_http_methods(["GET", "POST"])
def tenant_deletion(request: HttpRequest) -> HttpResponse:
    """The owner's page: ask for the deletion, or see when it happens and cancel it."""
    tenant = request.tenant
    if request.membership is None or request.membership.role != Role.OWNER:
        return forbidden(request, "Only an owner can delete this school or studio.")
    form = forms.ConfirmationForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.tenant_deletion_cancel(tenant=tenant, actor=request.user)
                messages.success(
                    request, f"The deletion is cancelled. {tenant.name} is open again."
                )
                return redirect("tenants:deletion")
            if form.is_valid():
                services.tenant_deletion_request(
                    tenant=tenant,
                    actor=request.user,
                    confirmation=form.cleaned_data["confirmation"],
                )
                return redirect("tenants:deletion")
        except DomainError as error:
            form.add_error(None, error.message)
    return render(
        request,
        "tenants/manage/deletion.html",
        {"form": form, "tenant": tenant, "grace_days": grace_days()},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def member_self_delete(request: HttpRequest) -> HttpResponse:
    """A member asks to be removed with their data (their email typed to confirm)."""
    tenant = request.tenant
    membership = request.membership
    form = forms.ConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirmation"].lower() != request.user.email.lower():
            form.add_error("confirmation", "Type your email address exactly to confirm.")
        else:
            try:
                counts = services.member_delete(membership=membership, actor=request.user)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if counts.get("account"):
                    logout(request)
                return render(
                    request,
                    "tenants/member_deleted.html",
                    {
                        "tenant": tenant,
                        "account_deleted": bool(counts.get("account")),
                        "public_site_url": hosts.public_url(),
                    },
                )
    return render(
        request,
        "tenants/member_delete.html",
        {"form": form, "tenant": tenant},
        status=400 if form.errors else 200,
    )


@require_admin
@require_POST
def member_delete(request: HttpRequest, public_id) -> HttpResponse:
    """An owner or admin removes a member and deletes their data (their email typed)."""
    membership = selectors.member_in_tenant(tenant=request.tenant, public_id=public_id)
    form = forms.ConfirmationForm(request.POST)
    if membership is None:
        messages.error(request, "That member is no longer here.")
    elif not form.is_valid() or (
        form.cleaned_data["confirmation"].lower() != membership.user.email.lower()
    ):
        messages.error(request, "Type the member's email address exactly to delete their data.")
    elif membership.user_id == request.user.pk:
        return redirect("tenants:member_self_delete")
    else:
        try:
            services.member_delete(membership=membership, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"{membership.user.email} was removed and their replies and recordings deleted.",
            )
    return redirect("tenants:members")


@require_admin
@require_POST
def data_policy(request: HttpRequest) -> HttpResponse:
    form = forms.DataPolicyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("tenants:settings")
    try:
        services.tenant_data_policy_set(
            tenant=request.tenant,
            actor=request.user,
            member_comments=form.cleaned_data["member_comments"],
            reply_retention_days=form.cleaned_data["reply_retention_days"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Data policy saved.")
    return redirect("tenants:settings")
