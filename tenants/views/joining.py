"""Becoming a member on a tenant's host: accepting an emailed invitation, joining with the code."""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tenants import forms, selectors, services
from tenants.errors import DomainError, InvitationInvalid, PermissionDenied
from tenants.views.common import link_invalid, login_here


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone with the link, but only the account of the invited address accepts it
    (logged in as that address, or by creating the account for it here)."""
    tenant = request.tenant
    try:
        invitation = services.invitation_check(token=token, tenant=tenant)
    except InvitationInvalid as error:
        return link_invalid(request, error)
    logged_in = request.user.is_authenticated
    wrong_account = logged_in and not services.invitation_is_for(
        invitation=invitation, user=request.user
    )
    # The link went to this address, so its holder may learn whether to log in or sign up.
    account_exists = not logged_in and selectors.user_exists(email=invitation.email)
    form = forms.InvitationSignupForm(
        request.POST if request.method == "POST" and not logged_in else None
    )
    login_url = f"{reverse('account_login')}?next={request.path}"
    status = 403 if wrong_account else 200
    if request.method == "POST":
        if account_exists:
            return redirect(login_url)
        accepted = False
        try:
            if logged_in:
                services.invitation_accept(token=token, tenant=tenant, user=request.user)
                accepted = True
            elif form.is_valid():
                membership = services.invitation_accept_with_signup(
                    token=token, tenant=tenant, password=form.cleaned_data["password"],
                    full_name=form.cleaned_data["full_name"],
                )
                login_here(request, membership.user)
                accepted = True
        except InvitationInvalid as error:
            return link_invalid(request, error)
        except PermissionDenied:
            status = 403  # the page explains whose invitation it is; nothing changed
        except DomainError as error:
            form.add_domain_error(error)
        if accepted:
            messages.success(request, f"Welcome to {tenant.name}!")
            return redirect("/")
    return render(
        request, "tenants/invitation.html",
        {
            "invitation": invitation, "form": form, "account_exists": account_exists,
            "wrong_account": wrong_account, "login_url": login_url,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Join as a student with the tenant's code: from a shared link, or typed in at /join/."""
    tenant = request.tenant
    if request.membership is not None:
        messages.info(request, f"You are already a member of {tenant.name}.")
        return redirect("/")
    code_form = forms.JoinCodeForm(request.POST or ({"code": code} if code else None))
    signup_form = forms.JoinSignupForm(
        request.POST if request.method == "POST" and not request.user.is_authenticated else None
    )
    code_ok = False
    if code_form.is_bound and code_form.is_valid():
        try:
            services.join_code_check(tenant=tenant, code=code_form.cleaned_data["code"])
            code_ok = True
        except InvitationInvalid as error:
            code_form.add_domain_error(error)
    if request.method == "POST" and code_ok:
        code = code_form.cleaned_data["code"]
        joined = False
        try:
            if request.user.is_authenticated:
                services.join_with_code(tenant=tenant, code=code, user=request.user)
                joined = True
            elif signup_form.is_valid():
                email = signup_form.cleaned_data["email"].strip().lower()
                limited = ratelimit.consume_or_429(
                    request, action="signup"
                ) or ratelimit.consume_or_429(request, action="signup_email", key=email)
                if limited:
                    return limited
                # Whether or not the address has an account, the answer is "check your
                # email": the link to finish (or a notice) goes to the address itself.
                services.join_signup_start(
                    tenant=tenant, code=code, email=signup_form.cleaned_data["email"],
                    full_name=signup_form.cleaned_data["full_name"],
                )
                return render(request, "public/signup_sent.html", {"thing": "join"})
        except DomainError as error:
            signup_form.add_domain_error(error)
        if joined:
            messages.success(request, f"Welcome to {tenant.name}!")
            return redirect("/")
    status = 410 if code and code_form.errors and request.method == "GET" else 200
    return render(
        request, "tenants/join.html",
        {
            "code_form": code_form, "signup_form": signup_form, "code_ok": code_ok,
            "login_url": f"{reverse('account_login')}?next={request.path}",
        },
        status=status,
    )
