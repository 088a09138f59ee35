"""Staff impersonation on a tenant's host, with django-hijack (the flow: tenants.services.
impersonation).

- `may_impersonate` is hijack's `HIJACK_PERMISSION_CHECK`: staff only, never as staff or a
  superuser, and only with a pending support request of the staff member's own for that
  person in this tenant (which carries the reason and needs the school's support access).
- `AcquireView` and `ReleaseView` are hijack's views, mounted on tenant hosts only under
  hijack's own URL names: acquire starts the support session named in the form (not any user
  by id), release ends it and logs the browser out of the tenant's host.
- `HijackUserMiddleware` is hijack's, reading the user at once (no lazy wrappers).
- `ImpersonationMiddleware` checks the session's grant on every request: past its time
  limit, ended elsewhere, or once the school switched support access off, the browser is
  logged out. It also marks the request's audit entries as done by the staff member.

The banner is hijack's notification template, ours (templates/hijack/notification.html): no
inline script or style (the production CSP allows neither), and no "hide" button.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import logout
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from hijack import middleware as hijack_middleware
from hijack import views as hijack_views

from tenants import hosts, services
from tenants.decorators import forbidden
from tenants.errors import DomainError
from tenants.models import Impersonation, User
from tenants.services import auditing
from tenants.services import impersonation as impersonation_services

SESSION_KEY = "practika_impersonation"
# What a support session may not open as the member: the member's sign-in stays theirs
# (password, email addresses, second factor, API tokens), whatever the support needs.
ACCOUNT_URL_NAMES = frozenset(
    {
        "account_change_password",
        "account_set_password",
        "account_email",
        "account_reauthenticate",
        "rest_login",
        "rest_password_change",
        "rest_user_details",
        "api_tokens",
        "api_token",
    }
)


def _current_tenant():
    tenant = getattr(connection, "tenant", None)
    if tenant is None or tenant.schema_name == "public" or tenant.pk is None:
        return None
    return tenant


def may_impersonate(*, hijacker: User, hijacked: User) -> bool:
    """hijack's permission check (HIJACK_PERMISSION_CHECK)."""
    tenant = _current_tenant()
    if tenant is None or hijacked is None:
        return False
    try:
        impersonation_services.impersonation_allowed(staff=hijacker, user=hijacked, tenant=tenant)
    except DomainError:
        return False
    return Impersonation.objects.filter(
        staff=hijacker,
        user=hijacked,
        tenant=tenant,
        started_at__isnull=True,
        ended_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()


def staff_tenant_url(tenant) -> str:
    return hosts.public_url(f"/staff/tenants/{tenant.public_id}/")


class AcquireView(hijack_views.AcquireUserView):
    """POST `impersonation=<public id>`: act as the member of that pending support request."""

    def _pending(self) -> Impersonation | None:
        tenant = _current_tenant()
        if tenant is None or not self.request.user.is_authenticated:
            return None
        try:
            public_id = uuid.UUID(self.request.POST.get("impersonation", ""))
        except ValueError:
            return None
        return impersonation_services.impersonation_pending(
            public_id=public_id, staff=self.request.user, tenant=tenant
        )

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self.impersonation = self._pending()
        if self.impersonation is None:
            return render(
                request,
                "tenants/forbidden.html",
                {"message": "This support session was already used or has expired."},
                status=403,
            )
        # hijack's views read the target from `user_pk`: it is the request's, never the form's.
        request.POST = request.POST.copy()
        request.POST["user_pk"] = str(self.impersonation.user_id)
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self) -> str:
        return "/"

    def post(self, request, *args, **kwargs):
        # In hijack's transaction (it locks the staff member's row): the start, its audit entry
        # and the login commit together.
        impersonation = impersonation_services.impersonation_start(impersonation=self.impersonation)
        response = super().post(request, *args, **kwargs)
        request.session[SESSION_KEY] = str(impersonation.public_id)
        auditing.origin_impersonated_by(impersonation.staff_id)
        return response


class ReleaseView(hijack_views.ReleaseUserView):
    """POST from the banner: stop acting as the member; the tenant's host logs out."""

    def post(self, request, *args, **kwargs):
        impersonation = getattr(request, "impersonation", None)
        super().post(request, *args, **kwargs)
        if impersonation is not None:
            services.impersonation_end(impersonation=impersonation, why="released")
        logout(request)
        # A page rather than a redirect to the public site: the production CSP's form-action
        # is the tenant's own host.
        return render(
            request,
            "tenants/support_ended.html",
            {"impersonation": impersonation, "staff_url": staff_tenant_url(request.tenant)},
        )


def _session_impersonation(request: HttpRequest) -> Impersonation | None:
    try:
        public_id = uuid.UUID(str(request.session.get(SESSION_KEY, "")))
    except ValueError:
        return None
    return (
        Impersonation.objects.select_related("staff", "tenant").filter(public_id=public_id).first()
    )


# Nor may it delete data or take it out of the school: deleting the school or a member, and
# asking for or downloading an export, are the members' own acts (the pages still open to look).
DATA_URL_NAMES = frozenset(
    {
        "tenants:deletion",
        "tenants:member_delete",
        "tenants:member_self_delete",
        "api:tenant_deletion",
        "api:my_deletion",
        "api:member_deletion",
        "learning:tenant_export",
        "learning:my_data",
        "api-exports",
    }
)
# Downloads are refused whatever the method.
DOWNLOAD_URL_NAMES = frozenset({"learning:export_download", "api-export-download"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _resolved(user):
    """The user itself instead of the lazy wrapper Django's auth puts around it."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


class HijackUserMiddleware(hijack_middleware.HijackUserMiddleware):
    """django-hijack's (`request.user.is_hijacked`, the banner), with the user read at once:
    hijack wraps a lazy copy of auth's lazy user, and every later read of `request.user` — the
    middleware below, the view, the templates — would pay LazyObject's attribute lookup. Every
    page reads the user anyway (tenant access, a kept page's key)."""

    def process_request(self, request):
        request.user = self.setup_user(request, _resolved(request.user))
        if "REMOTE_USER" in request.META and request.user.is_hijacked:
            request.META["REMOTE_USER"] = request.user.get_username()


class ImpersonationMiddleware:
    """Enforce a support session's grant on every request (see the module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.impersonation = None
        if not request.session.get("hijack_history"):
            return self.get_response(request)
        impersonation = _session_impersonation(request)
        tenant = _current_tenant()
        why = self._ended(request, impersonation, tenant)
        if why is not None:
            if impersonation is not None and impersonation.ended_at is None:
                services.impersonation_end(impersonation=impersonation, why=why)
            logout(request)
            message = "The support session has ended."
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "impersonation_ended", "message": message}, status=401)
            # A page with a link, not a redirect to the public site: the request may be a form's
            # POST, and the production CSP's form-action allows no other host.
            return render(
                request,
                "tenants/support_ended.html",
                {
                    "impersonation": impersonation,
                    "why": why,
                    "staff_url": staff_tenant_url(impersonation.tenant)
                    if impersonation
                    else hosts.public_url("/staff/"),
                },
                status=403,
            )
        request.impersonation = impersonation
        auditing.origin_impersonated_by(impersonation.staff_id)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        impersonation = getattr(request, "impersonation", None)
        if impersonation is None:
            return None
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        if name == "account_logout" and request.method == "POST":
            # Logging out ends the session too: say so in the log now, not at its time limit.
            services.impersonation_end(impersonation=impersonation, why="released")
            return None
        if name in ACCOUNT_URL_NAMES or name.startswith("mfa_"):
            return self._refused(
                request, "A support session cannot change the member's sign-in or second factor."
            )
        if name in DOWNLOAD_URL_NAMES or (
            name in DATA_URL_NAMES and request.method not in SAFE_METHODS
        ):
            return self._refused(
                request,
                "A support session cannot delete data or export it: the member does that "
                "themselves.",
            )
        return None

    @staticmethod
    def _refused(request, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "impersonation_forbidden", "message": message}, status=403)
        return forbidden(request, message)

    @staticmethod
    def _ended(request, impersonation: Impersonation | None, tenant) -> str | None:
        if impersonation is None or impersonation.ended_at is not None:
            return Impersonation.EndReason.RELEASED
        if tenant is None or tenant.pk != impersonation.tenant_id:
            return Impersonation.EndReason.RELEASED
        if impersonation.expires_at <= timezone.now():
            return Impersonation.EndReason.EXPIRED
        if not tenant.support_access:
            return Impersonation.EndReason.REVOKED
        if request.user.pk != impersonation.user_id:
            return Impersonation.EndReason.RELEASED
        return None
