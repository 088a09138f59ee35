"""The guardian's pages of a studio's student under 13 (tenants.services.guardian_consent):
open to anyone with the signed link the guardian was emailed, which is the credential."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenants import forms
from tenants.decorators import require_admin
from tenants.errors import DomainError, NotFound
from tenants.models import GuardianConsent
from tenants.services import guardian_consent
from tenants.views.common import link_invalid


def _client(request: HttpRequest) -> tuple[str | None, str]:
    # REMOTE_ADDR is the client's address: uvicorn sets it from PRACTIKA_TRUSTED_PROXIES.
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = guardian_consent.guardian_consent_from_token(tenant=request.tenant, token=token)
    except NotFound as error:
        return link_invalid(request, error)
    form = forms.GuardianConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip, agent = _client(request)
        try:
            guardian_consent.guardian_consent_give(
                consent=found,
                guardian_name=form.cleaned_data["guardian_name"],
                ip=ip,
                user_agent=agent,
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect("tenants:guardian_consent", token=token)
    return render(
        request,
        "tenants/guardian/consent.html",
        {"consent": found, "form": form, "token": token},
    )


@require_POST
def consent_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = guardian_consent.guardian_consent_from_token(tenant=request.tenant, token=token)
    except NotFound as error:
        return link_invalid(request, error)
    guardian_consent.guardian_consent_withdraw(consent=found, ip=_client(request)[0])
    return render(request, "tenants/guardian/withdrawn.html", {"consent": found})


@require_admin
@require_POST
def consent_resend(request: HttpRequest, public_id) -> HttpResponse:
    """The studio's owner or admin asks the guardian again (a new link; earlier ones die)."""
    found = GuardianConsent.objects.filter(tenant=request.tenant, public_id=public_id).first()
    if found is None:
        raise Http404("This consent request does not exist.")
    try:
        guardian_consent.guardian_consent_request(
            tenant=request.tenant,
            student_email=found.student_email,
            guardian_email=found.guardian_email,
            actor=request.user,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"We asked {found.guardian_email} for consent again.")
    return redirect("tenants:members")
