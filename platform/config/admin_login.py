"""The Django admin's login is our login.

Django's own admin login form has no failed-login limit: it would be the one place to guess the
passwords of the most powerful accounts. `login` replaces it (urls_public sets
`admin.site.login`): an anonymous visitor is sent to allauth's login page, with its limits per
client address and per account (ACCOUNT_RATE_LIMITS) and whatever else that login asks (MFA),
and comes back to the admin afterwards. A POST of credentials to the old address is never
checked. The admin stays staff-only: a logged-in account without `is_staff` gets a 403 here
instead of a login form it could not pass (and a redirect loop with allauth's login, which
sends logged-in visitors on to `next`).
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tenants.decorators import forbidden


def login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    index = reverse("admin:index")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = index
    if not request.user.is_authenticated:
        return redirect_to_login(next_url, login_url=reverse("account_login"))
    if request.user.is_active and request.user.is_staff:
        return redirect(next_url)
    return forbidden(request, "The Django admin is for Practika's staff only.")
