"""Routing requests to tenants and keeping non-members out.

`TenantRoutingMiddleware` picks the schema from the host (django-tenants). The base domain is
the public site; an unknown subdomain gets a 404 instead of the public site.

`TenantAccessMiddleware` makes membership the default for every page on a tenant's host: a
view is reachable by non-members only if it is listed as open (log in, sign up, accept an
invitation, join with a code, the login handover). New routes are closed until opened. The
API enforces the same rule in its default permission class (`tenants.permissions`), since
token authentication happens inside DRF.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django_tenants.middleware.main import TenantMainMiddleware

from tenants import chrome, services
from tenants.models import Role
from tenants.services import auditing

# URL names on a tenant's host that people who are not (yet) members may open.
OPEN_URL_NAMES = frozenset(
    {
        "account_login",
        "account_logout",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key",
        "account_reset_password_from_key_done",
        "account_confirm_email",
        "account_email_verification_sent",
        "account_inactive",
        # The code step of a login (allauth.mfa): the user is not signed in until it is done.
        "mfa_authenticate",
        "tenants:handover",
        "tenants:invitation_accept",
        "tenants:join",
        "tenants:no_access",
        # A guardian's pages and the class-code sign-in: the signed link, or the code and PIN,
        # are the credential (tenants.services.guardian_consent, learning.class_signin).
        "tenants:guardian_consent",
        "tenants:guardian_consent_withdraw",
        "learning:guardian_feedback",
        "learning:class_signin",
        "learning:class_signin_pick",
        "healthz",
        "readyz",
        # Platform staff (no members) on their way into a support session; the views check
        # the staff member's own pending request (tenants.impersonation).
        "tenants:support_start",
        "hijack:acquire",
        "hijack:release",
        # Like S3's presigned URLs, these carry a signed, tenant-bound token as their credential.
        "upload-part",
        "media-signed",
        # LTI 1.3: the LMS's login initiation and signed launch, and our public keys.
        "learning:lti:login",
        "learning:lti:launch",
        "learning:lti:jwks",
    }
)

# What opens while a tenant's deletion is scheduled (tenants.services.deletion): logging in and
# out, and, for owners, the page that cancels it. Everything else shows the closing notice.
CLOSING_OPEN_URL_NAMES = frozenset(
    {
        "account_login",
        "account_logout",
        "mfa_authenticate",
        "tenants:handover",
        "healthz",
        "readyz",
    }
)
CLOSING_OWNER_URL_NAMES = frozenset({"tenants:deletion"})


class AuditOriginMiddleware:
    """Where this request comes from, for the audit entries its services write: the client's
    address as Django reads it (REMOTE_ADDR: the web server believes X-Forwarded-For only from
    PRACTIKA_TRUSTED_PROXIES, docs/deployment.md) and its user agent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = auditing.origin_begin(
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        try:
            return self.get_response(request)
        finally:
            auditing.origin_end(token)


def is_public(request: HttpRequest) -> bool:
    return request.tenant.schema_name == "public"


class TenantRoutingMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        # Cached per host name (tenants.chrome), dropped whenever the tenant or a domain changes.
        tenant = chrome.tenant_for_host(hostname)
        if tenant is None:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    def no_tenant_found(self, request, hostname):
        base = settings.BASE_DOMAIN
        if hostname.endswith(f".{base}") and hostname != base:
            raise Http404(f"There is no school or studio at {hostname}.")
        # The base domain (and bare IPs used by health checks) serve the public site, which
        # has no tenant row of its own: an unsaved stand-in keeps `request.tenant` uniform.
        from tenants.models import Tenant

        request.tenant = Tenant(schema_name="public", name="Practika", slug="", kind="studio")
        self.setup_url_routing(request=request, force_public=True)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the signed-in user's row read from the cache (tenants.chrome)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _session_user(request))


def _session_user(request):
    # As django.contrib.auth.middleware.get_user: once per request.
    if not hasattr(request, "_cached_user"):
        request._cached_user = chrome.user_for_session(request)
    return request._cached_user


class TenantAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None
        request.page_chrome = None
        if is_public(request):
            return self.get_response(request)
        tenant = request.tenant
        if getattr(request.user, "is_authenticated", False):
            # The membership, and the rest of the page's chrome, in one cache read.
            request.page_chrome = chrome.PageChrome(tenant=tenant, user=request.user)
            request.membership = request.page_chrome.membership
            if request.membership is not None and services.membership_touch(
                membership=request.membership
            ):
                # Stored again at once, so the member's next page finds it in the cache.
                request.page_chrome.reload_member()
                request.membership = request.page_chrome.membership
        # The notice itself shows the school's logo (and the site's styles): those files open.
        if tenant.is_suspended and not request.path.startswith(
            (settings.STATIC_URL, settings.MEDIA_URL)
        ):
            return render(request, "tenants/suspended.html", {"tenant": tenant}, status=403)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_public(request):
            return None
        if request.tenant.is_closing and not request.path.startswith("/api/"):
            closed = self._closing(request)
            if closed is not None:
                return closed
        if request.path.startswith("/api/"):
            return None  # tenants.permissions applies the same rules to the API
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_URL_NAMES:
            return None
        if request.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.membership is None:
            return render(
                request, "tenants/no_access.html", {"tenant": request.tenant}, status=403
            )
        return None

    def _closing(self, request: HttpRequest) -> HttpResponse | None:
        if request.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return None
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        if name in CLOSING_OPEN_URL_NAMES:
            return None
        is_owner = request.membership is not None and request.membership.role == Role.OWNER
        if is_owner and name in CLOSING_OWNER_URL_NAMES:
            return None
        return render(
            request, "tenants/closing.html", {"tenant": request.tenant, "is_owner": is_owner},
            status=403,
        )
