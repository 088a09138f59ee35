"""Pages of the public site and of each tenant's host that belong to identity and tenancy.

Views parse input, call one service or selector, and render; the rules live in services.
"""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import forms, hosts, selectors, services
from tenants import handover as login_handover
from tenants.decorators import require_admin
from tenants.errors import DomainError, InvitationInvalid, PermissionDenied, SlugUnavailable
from tenants.mfa import policy as mfa_policy
from tenants.models import Role, Tenant, User

# Sessions started by our own pages (sign-up, invitations, handover) use the model backend.
BACKEND = "django.contrib.auth.backends.ModelBackend"

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


def _login(request: HttpRequest, user: User) -> None:
    login(request, user, backend=BACKEND)


# --- Public site --------------------------------------------------------------------------


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
        return _link_invalid(request, error)
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
                return _link_invalid(request, error)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                _login(request, result.user)
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


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """One membership goes straight in; several get a picker; none get the sign-up choices."""
    memberships = list(selectors.memberships_for_user(user=request.user))
    if len(memberships) == 1:
        url = login_handover.handover_create(user=request.user, tenant=memberships[0].tenant)
        return redirect(url)
    return render(request, "tenants/pick_tenant.html", {"memberships": memberships})


@login_required
def enter_tenant(request: HttpRequest, slug: str) -> HttpResponse:
    membership = selectors.memberships_for_user(user=request.user).filter(tenant__slug=slug).first()
    if membership is None:
        return render(request, "tenants/no_access.html", status=404)
    return redirect(login_handover.handover_create(user=request.user, tenant=membership.tenant))


@require_GET
def handover_vouch(request: HttpRequest) -> HttpResponse:
    """Public site, step 3 of the handover (tenants.handover): vouch for a ticket only in a
    browser logged in here as its user."""
    try:
        url = login_handover.handover_vouch(
            token=request.GET.get("t", ""), state=request.GET.get("s", ""), user=request.user
        )
    except DomainError as error:
        return render(request, "tenants/link_invalid.html", {"message": error.message}, status=400)
    return redirect(url)


# --- Tenant host: entering ----------------------------------------------------------------


@require_GET
def handover(request: HttpRequest) -> HttpResponse:
    """Tenant's host, steps 2 and 4 of the handover (tenants.handover)."""
    token = request.GET.get("t", "")
    voucher = request.GET.get("v")
    try:
        if voucher is None:
            ticket = login_handover.handover_skip(
                token=token, tenant=request.tenant, user=request.user
            )
            if ticket is None:
                state = get_random_string(43)
                response = redirect(login_handover.handover_begin_url(token=token, state=state))
                response.set_cookie(
                    login_handover.STATE_COOKIE, state,
                    max_age=settings.LOGIN_HANDOVER_TTL_SECONDS * 2,
                    path=login_handover.STATE_COOKIE_PATH, secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True, samesite="Lax",
                )
                return response
        else:
            ticket = login_handover.handover_redeem(
                token=token, tenant=request.tenant, voucher=voucher,
                state=request.COOKIES.get(login_handover.STATE_COOKIE, ""),
            )
            _login(request, ticket.user)
            # The public session that vouched was confirmed (tenants.mfa), so this one is.
            mfa_policy.handover_redeemed(request, user=ticket.user)
    except DomainError as error:
        response = render(
            request, "tenants/link_invalid.html", {"message": error.message}, status=400
        )
    else:
        response = redirect(ticket.next_path)
    response.delete_cookie(login_handover.STATE_COOKIE, path=login_handover.STATE_COOKIE_PATH)
    return response


def tenant_home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/tenant_home.html")


def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/no_access.html", status=403)


def _link_invalid(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(
        request, "tenants/link_invalid.html",
        {"message": error.message, "code": error.code}, status=410,
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone with the link, but only the account of the invited address accepts it
    (logged in as that address, or by creating the account for it here)."""
    tenant = request.tenant
    try:
        invitation = services.invitation_check(token=token, tenant=tenant)
    except InvitationInvalid as error:
        return _link_invalid(request, error)
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
                _login(request, membership.user)
                accepted = True
        except InvitationInvalid as error:
            return _link_invalid(request, error)
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
                limited = ratelimit.consume_or_429(request, action="signup")
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


# --- Tenant host: admin portal ------------------------------------------------------------


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
        invitation = services.invitation_create(
            tenant=request.tenant, email=form.cleaned_data["email"],
            role=form.cleaned_data["role"], actor=request.user,
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
    return render(request, "tenants/manage/settings.html", {"form": form})
