"""A tenant's admin portal (owners and admins): members, invitations, the join code, settings."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import forms, hosts, selectors, services
from tenants.decorators import require_admin
from tenants.errors import DomainError
from tenants.models import Role
from tenants.services import guardian_consent
from tenants.services.impersonation import impersonation_minutes


@require_admin
@require_GET
def members(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    return render(
        request, "tenants/manage/members.html",
        {
            "members": selectors.members_for_tenant(tenant=tenant, role=role or None),
            "invitations": selectors.pending_invitations(tenant=tenant),
            "role": role,
            "roles": Role.choices,
            "invite_form": forms.InviteForm(),
            "join_url": hosts.tenant_url(tenant.slug, f"/join/{tenant.join_code}/"),
            "acting_is_owner": request.membership.role == Role.OWNER,
            "guardian_consents": guardian_consent.guardian_consents_for(tenant=tenant),
        },
    )


def _back_to_members(request: HttpRequest) -> HttpResponse:
    return redirect("tenants:members")


@require_admin
@require_POST
def member_role(request: HttpRequest, public_id) -> HttpResponse:
    membership = selectors.member_in_tenant(tenant=request.tenant, public_id=public_id)
    form = forms.RoleForm(request.POST)
    if membership is None:
        messages.error(request, "That member is no longer here.")
    elif not form.is_valid():
        messages.error(request, "Choose a role.")
    else:
        try:
            services.membership_change_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
            )
    return _back_to_members(request)


@require_admin
@require_POST
def member_remove(request: HttpRequest, public_id) -> HttpResponse:
    membership = selectors.member_in_tenant(tenant=request.tenant, public_id=public_id)
    if membership is None:
        messages.error(request, "That member is no longer here.")
        return _back_to_members(request)
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _back_to_members(request)
    messages.success(
        request, f"{membership.user.email} was removed. Their exercises and replies are kept."
    )
    if membership.user_id == request.user.pk:
        return redirect("tenants:no_access")
    return _back_to_members(request)


@require_admin
@require_POST
def invitation_create(request: HttpRequest) -> HttpResponse:
    form = forms.InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back_to_members(request)
    try:
        with transaction.atomic():
            invitation = services.invitation_create(
                tenant=request.tenant, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], actor=request.user,
            )
            if form.cleaned_data["under_13"] and invitation.role == Role.STUDENT:
                guardian_consent.guardian_consent_request(
                    tenant=request.tenant, student_email=invitation.email,
                    guardian_email=form.cleaned_data["guardian_email"], actor=request.user,
                )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Invitation sent to {invitation.email} as {invitation.get_role_display().lower()}.",
        )
    return _back_to_members(request)


@require_admin
@require_POST
def invitation_revoke(request: HttpRequest, public_id) -> HttpResponse:
    invitation = selectors.invitation_in_tenant(tenant=request.tenant, public_id=public_id)
    if invitation is not None:
        services.invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return _back_to_members(request)


@require_admin
@require_POST
def join_code_rotate(request: HttpRequest) -> HttpResponse:
    services.join_code_rotate(tenant=request.tenant, actor=request.user)
    messages.success(request, "New join code issued. The old link and code no longer work.")
    return _back_to_members(request)


@require_admin
@require_http_methods(["GET", "POST"])
def tenant_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    form = forms.TenantSettingsForm(
        request.POST or None, request.FILES or None, initial={"name": tenant.name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update(
                tenant=tenant, actor=request.user, name=form.cleaned_data["name"],
                logo=form.cleaned_data["logo"] or None,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Settings saved.")
            return redirect("tenants:settings")
    policy_form = forms.DataPolicyForm(
        initial={
            "member_comments": tenant.member_comments_on_deletion,
            "reply_retention_days": tenant.reply_retention_days,
        }
    )
    return render(
        request, "tenants/manage/settings.html",
        {
            "form": form, "policy_form": policy_form,
            "acting_is_owner": request.membership.role == Role.OWNER,
            "impersonation_minutes": impersonation_minutes(),
        },
    )
