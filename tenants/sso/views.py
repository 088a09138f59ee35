"""Single sign-on pages: the public site's way into a school's sign-in (`/sso/...`), and the
admin portal's sign-in page (`/manage/sign-in/`, owners and admins)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from tenants import hosts
from tenants.decorators import require_admin
from tenants.errors import DomainError
from tenants.models import Tenant
from tenants.sso import forms, policy, selectors, services

SLUG = re.compile(r"[-a-z0-9_]{1,40}")
# The providers the platform may configure for everyone (settings.SOCIALACCOUNT_PROVIDERS).
PLATFORM_PROVIDERS = ("google", "microsoft")


def platform_providers() -> list[str]:
    """The platform providers configured in settings, in a fixed order."""
    configured = settings.SOCIALACCOUNT_PROVIDERS
    return [name for name in PLATFORM_PROVIDERS if configured.get(name, {}).get("APPS")]


def _not_set_up(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "tenants/sso_refused.html", {"message": message}, status=404)


@require_GET
def sso_find_school(request: HttpRequest) -> HttpResponse:
    """Public site: the login page's "your school's sign-in" box, by the school's address."""
    slug = request.GET.get("school", "").strip().lower()
    slug = slug.split(".", 1)[0]  # "my-school.practika.com" works as well as "my-school"
    if not SLUG.fullmatch(slug):
        return _not_set_up(request, "Type your school's Practika address, like my-school.")
    return redirect("tenants:sso_start", slug=slug)


@require_GET
def sso_start(request: HttpRequest, slug: str, provider: str = "school") -> HttpResponse:
    """Public site: start a sign-in for the school `slug`, by its own server or a platform
    provider; allauth comes back to `/go/<slug>/`, and so to the login handover."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return _not_set_up(request, "There is no school at that address on Practika.")
    query = urlencode({"process": "login", "next": reverse("tenants:enter", args=[slug])})
    if provider == "school":
        sign_on = selectors.sign_on_for(tenant=tenant)
        if sign_on is None or sign_on.app is None:
            others = " or ".join(name.capitalize() for name in platform_providers())
            return _not_set_up(
                request,
                f"{tenant.name} has not set up its own sign-in. Log in with your email and "
                + (f"password, or with {others}, on the login page." if others else "password."),
            )
        url = reverse("openid_connect_login", kwargs={"provider_id": sign_on.app.provider_id})
    elif provider in platform_providers():
        url = reverse(f"{provider}_login")
    else:
        return _not_set_up(request, "That sign-in provider is not available.")
    return redirect(f"{url}?{query}")


# --- Tenant host: the admin portal ---------------------------------------------------------


def _rules_form(sign_on, data=None) -> forms.SignOnRulesForm:
    initial = {}
    if sign_on is not None:
        initial = {
            "email_domains": ", ".join(sign_on.email_domains),
            "auto_join": sign_on.auto_join,
            "auto_join_role": sign_on.auto_join_role,
        }
    return forms.SignOnRulesForm(data, initial=initial, prefix="rules")


def _server_form(sign_on, data=None) -> forms.SchoolServerForm:
    initial = {}
    if sign_on is not None and sign_on.app is not None:
        initial = {
            "issuer": sign_on.app.settings.get("server_url", ""),
            "client_id": sign_on.app.client_id,
        }
    return forms.SchoolServerForm(data, initial=initial, prefix="server")


@require_admin
@require_http_methods(["GET", "POST"])
def sign_on_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    sign_on = selectors.sign_on_for(tenant=tenant)
    rules_form, server_form = _rules_form(sign_on), _server_form(sign_on)
    action = request.POST.get("action")
    try:
        if action == "rules":
            rules_form = _rules_form(sign_on, request.POST)
            if rules_form.is_valid():
                data = rules_form.cleaned_data
                services.sign_on_update(
                    tenant=tenant,
                    actor=request.user,
                    email_domains=services.parse_domains(data["email_domains"]),
                    auto_join=data["auto_join"],
                    auto_join_role=data["auto_join_role"],
                )
                messages.success(request, "Sign-in rules saved.")
                return redirect("tenants:sign_on")
        elif action == "server":
            server_form = _server_form(sign_on, request.POST)
            if server_form.is_valid():
                data = server_form.cleaned_data
                services.school_server_set(
                    tenant=tenant,
                    actor=request.user,
                    issuer=data["issuer"],
                    client_id=data["client_id"],
                    secret=data["secret"] or None,
                )
                messages.success(request, "Your sign-in provider is saved.")
                return redirect("tenants:sign_on")
        elif action == "remove_server":
            services.school_server_remove(tenant=tenant, actor=request.user)
            messages.success(request, "Your sign-in provider was removed.")
            return redirect("tenants:sign_on")
    except DomainError as error:
        (rules_form if action == "rules" else server_form).add_error(None, error.message)
    has_server = sign_on is not None and sign_on.app is not None
    provider_id = policy.school_provider_id(tenant=tenant)
    return render(
        request,
        "tenants/manage/sign_on.html",
        {
            "rules_form": rules_form,
            "server_form": server_form,
            "has_server": has_server,
            "callback_url": hosts.public_url(f"/accounts/oidc/{provider_id}/login/callback/"),
            "start_url": hosts.public_url(
                reverse("tenants:sso_start", args=[tenant.slug], urlconf="config.urls_public")
            ),
        },
        status=400 if request.method == "POST" else 200,
    )
