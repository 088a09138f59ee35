"""Two-factor authentication before any page for those who must have it (see tenants.mfa).

For a signed-in user, on every request but the few that setting up or confirming a second
factor needs:

- a session of a user with an authenticator that has not confirmed it → the code page
  (allauth's `mfa_reauthenticate`, then back to the page asked for);
- a user who must have a second factor and has none → the enrolment page (`mfa_activate_totp`).

API requests get `403 {"code": "mfa_required", "message": ...}` instead of a redirect. Token
authentication happens inside DRF, after middleware, so for a request with an Authorization
header the configured DRF authenticators are asked here who it is. A token stands for a
confirmed login: the API login asks for a code from anyone with an authenticator
(tenants.mfa.policy.check_api_login).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.settings import api_settings

from tenants import selectors
from tenants.mfa import policy
from tenants.models import User

# What a user who still has to set up or confirm a second factor may open.
EXEMPT_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_authenticate",
        "mfa_reauthenticate",
        # Setting up an authenticator asks for the password again if the login is not recent.
        "account_reauthenticate",
        "account_logout",
        "rest_logout",
        "healthz",
        "readyz",
    }
)

ENROL = "enrol"
CONFIRM = "confirm"


def _token_user(request: HttpRequest) -> User | None:
    """The user behind the request's API token, asked of DRF's configured authenticators."""
    drf_request = Request(request)
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authentication_class, SessionAuthentication):
            continue
        try:
            result = authentication_class().authenticate(drf_request)
        except exceptions.APIException:
            return None  # DRF answers the bad token itself
        if result is not None:
            return result[0]
    return None


class MFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_URL_NAMES:
            return None
        api = request.path.startswith("/api/")
        by_token = False
        user = request.user if request.user.is_authenticated else None
        if user is None and api and request.META.get("HTTP_AUTHORIZATION"):
            user, by_token = _token_user(request), True
        if user is None:
            return None
        missing = self._missing(request, user=user, by_token=by_token)
        if missing is None:
            return None
        if api:
            return self._api_refusal(missing)
        return self._page_redirect(request, missing)

    def _missing(self, request: HttpRequest, *, user: User, by_token: bool) -> str | None:
        if getattr(request, "impersonation", None) is not None:
            # Platform staff acting as a member (tenants.impersonation) confirmed their own
            # second factor to reach the staff area; the member's is not theirs to give.
            return None
        if not by_token and policy.session_confirmed(request, user=user):
            return None
        page_chrome = getattr(request, "page_chrome", None)
        if not by_token and page_chrome is not None:
            has_authenticator = page_chrome.member.has_authenticator  # read with the membership
        else:
            has_authenticator = policy.has_authenticator(user=user)
        if has_authenticator:
            return None if by_token else CONFIRM
        membership = getattr(request, "membership", None)
        if by_token and request.tenant.schema_name != "public":
            membership = selectors.membership_for(user=user, tenant=request.tenant)
        if policy.is_required(user=user, tenant=request.tenant, membership=membership):
            return ENROL
        return None

    def _api_refusal(self, missing: str) -> JsonResponse:
        if missing == ENROL:
            message = (
                "This account needs two-factor authentication here. Set up an authenticator "
                "app on the website (Account → Two-factor authentication), then try again."
            )
        else:
            message = "Confirm this session with a code from your authenticator app first."
        return JsonResponse({"code": "mfa_required", "message": message}, status=403)

    def _page_redirect(self, request: HttpRequest, missing: str) -> HttpResponse:
        if missing == CONFIRM:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        if request.tenant.schema_name == "public":
            why = "Practika staff accounts need two-factor authentication."
        else:
            why = f"{request.tenant.name} asks its owners, admins and teachers to use it."
        messages.info(request, f"Set up two-factor authentication to continue. {why}")
        return redirect("mfa_activate_totp")
