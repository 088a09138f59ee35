"""allauth hooks: where people land after logging in, one login-guessing limit for all hosts,
and API tokens revoked whenever a password is set, changed or reset."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from tenants import tokens
from tenants.models import ManagedAccount
from tenants.redirects import is_safe_redirect


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # On a tenant's host, stay there; on the public site, pick a tenant (see views).
        if request.tenant.schema_name != "public":
            return "/"
        return "/after-login/"

    def is_safe_url(self, url):
        # Only this host or the public site, never another tenant's (tenants.redirects).
        return is_safe_redirect(url, request=context.request)

    def is_open_for_signup(self, request):
        # Sign-up is ours (tenants.views: a studio, a school, a join code or an invitation),
        # and answers the same whether or not the address has an account; allauth's own page
        # would log a new address in at once and so tell which addresses are taken.
        return False

    def authenticate(self, request, **credentials):
        # Cache keys carry the current schema (django_tenants.cache.make_key), so allauth's
        # failed-login counters would restart on every tenant host. Users live in the public
        # schema anyway: count (and check) every attempt there.
        with schema_context(get_public_schema_name()):
            return super().authenticate(request, **credentials)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth puts the site's domain in the key; one person is one key on every host.
        return credentials.get("email", credentials.get("username", "")).lower()

    def set_password(self, user, password) -> None:
        # allauth sets every new password through here: the password change and reset pages,
        # and the API's (tenants.apis.auth). A token taken with the old password dies with it.
        # A student account without email has no password: its teachers manage its code.
        if ManagedAccount.objects.filter(user=user).exists():
            raise PermissionDenied("This account's sign-in is managed by its teachers.")
        with transaction.atomic():
            super().set_password(user, password)
            tokens.api_tokens_revoke_all(user=user)
