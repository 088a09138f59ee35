"""The public site's home and sign-up: a studio or a school, in two steps (then check your
email), or at once for someone logged in."""

from __future__ import annotations

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from tenants import forms, selectors, services
from tenants import handover as login_handover
from tenants.errors import DomainError, InvitationInvalid, SlugUnavailable
from tenants.models import Tenant
from tenants.page_cache import cached_page
from tenants.views.common import link_invalid, login_here

SIGNUP_COPY = {
    Tenant.Kind.STUDIO: {
        "title": "Start your teaching studio",
        "lead": "Your own space for exercises and your students' replies. Free to start.",
        "thing": "studio",
    },
    Tenant.Kind.SCHOOL: {
        "title": "Set up your school",
        "lead": "One place for your teachers, students and their practice. You will be its owner.",
        "thing": "school",
    },
}


@cached_page(visitors=True)
def public_home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


def signup_choice(request: HttpRequest) -> HttpResponse:
    return render(request, "public/signup_choice.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, kind: str) -> HttpResponse:
    """Sign up for a studio or school (then check your email), or, when logged in, just
    create one and go straight in."""
    logged_in = request.user.is_authenticated
    form_class = forms.TenantForm if logged_in else forms.SignupForm
    form = form_class(request.POST or None, kind=kind)
    if request.method == "POST":
        # Every sign-up creates a schema or sends an email: allauth's sign-up limit applies.
        limited = ratelimit.consume_or_429(request, action="signup")
        if limited:
            return limited
        if form.is_valid():
            data = form.cleaned_data
            try:
                if logged_in:
                    tenant = services.tenant_create(
                        name=data["tenant_name"], slug=data["slug"], kind=kind, owner=request.user
                    )
                else:
                    limited = ratelimit.consume_or_429(
                        request, action="signup_email", key=data["email"].strip().lower()
                    )
                    if limited:
                        return limited
                    # The same answer whether or not the address has an account: the link
                    # (or, for a known address, a notice) goes to the address itself.
                    services.signup_start(
                        email=data["email"], full_name=data["full_name"],
                        tenant_name=data["tenant_name"], slug=data["slug"], kind=kind,
                    )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                if not logged_in:
                    return render(request, "public/signup_sent.html", {"thing": kind})
                return redirect(login_handover.handover_create(user=request.user, tenant=tenant))
    return render(
        request, "public/signup.html",
        {"form": form, "kind": kind, "copy": SIGNUP_COPY[kind], "logged_in": logged_in},
    )


@require_http_methods(["GET", "POST"])
def signup_finish(request: HttpRequest, token: str) -> HttpResponse:
    """Sign-up's second step, from the emailed link: choose a password, then go in."""
    try:
        pending = services.signup_pending(token=token)
    except InvitationInvalid as error:
        return link_invalid(request, error)
    joining = pending.kind == services.JOIN_KIND
    initial = {"tenant_name": pending.tenant_name, "slug": pending.slug}
    form = forms.SignupFinishForm(
        request.POST or None, initial=initial, kind=pending.kind, with_tenant=not joining
    )
    if request.method == "POST":
        limited = ratelimit.consume_or_429(request, action="signup")
        if limited:
            return limited
        if form.is_valid():
            try:
                result = services.signup_finish(
                    token=token, password=form.cleaned_data["password"],
                    tenant_name=form.cleaned_data.get("tenant_name", ""),
                    slug=form.cleaned_data.get("slug", ""),
                )
            except InvitationInvalid as error:
                return link_invalid(request, error)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                login_here(request, result.user)
                return redirect(
                    login_handover.handover_create(user=result.user, tenant=result.tenant)
                )
    return render(
        request, "public/signup_finish.html",
        {"form": form, "pending": pending, "joining": joining},
    )


@require_GET
def slug_suggestion(request: HttpRequest) -> JsonResponse:
    """For the sign-up form: is this web address free, and if not, what is?"""
    slug = request.GET.get("slug", "").strip().lower()
    if not slug:
        suggestion = selectors.suggest_slug(request.GET.get("name", ""))
        return JsonResponse({"ok": True, "slug": suggestion})
    try:
        services.slug_check(slug=slug)
    except SlugUnavailable as error:
        return JsonResponse({"ok": False, "slug": error.suggestion, "message": error.message})
    return JsonResponse({"ok": True, "slug": slug})
