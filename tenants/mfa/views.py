"""The tenant admin portal's two-factor setting (`/manage/settings/mfa/`): owners only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tenants import services
from tenants.decorators import forbidden, require_admin
from tenants.errors import DomainError, PermissionDenied


class MFARequiredForm(forms.Form):
    mfa_required = forms.BooleanField(required=False)


@require_admin
@require_POST
def tenant_mfa_setting(request: HttpRequest) -> HttpResponse:
    form = MFARequiredForm(request.POST)
    form.is_valid()  # a missing or unchecked box is False; nothing else can be wrong
    required = form.cleaned_data.get("mfa_required", False)
    try:
        services.tenant_require_mfa(tenant=request.tenant, user=request.user, required=required)
    except PermissionDenied as error:
        return forbidden(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Owners, admins and teachers now need two-factor authentication."
            if required
            else "Two-factor authentication is no longer required here.",
        )
    return redirect("tenants:settings")
