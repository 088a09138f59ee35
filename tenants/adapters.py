"""allauth hooks: where people land after logging in, one login-guessing limit for all hosts,
API tokens revoked whenever a password is set, changed or reset, and single sign-on's rules
(tenants.sso.policy) for social logins."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import transaction
from django.shortcuts import render
from django_tenants.utils import get_public_schema_name, schema_context

from tenants import tokens
from tenants.errors import DomainError
from tenants.models import User
from tenants.redirects import is_safe_redirect
from tenants.sso import policy as sso_policy
from tenants.sso import services as sso_services


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
        with transaction.atomic():
            super().set_password(user, password)
            tokens.api_tokens_revoke_all(user=user)


def _refused(request, error: DomainError) -> ImmediateHttpResponse:
    return ImmediateHttpResponse(
        render(request, "tenants/sso_refused.html", {"message": error.message}, status=403)
    )


def _verified_emails(sociallogin) -> list[str]:
    return [address.email.lower() for address in sociallogin.email_addresses if address.verified]


def _destination(sociallogin) -> sso_policy.Destination | None:
    return sso_policy.destination(
        provider_id=sociallogin.account.provider, next_url=sociallogin.state.get("next")
    )


def _join_role(sociallogin) -> tuple[sso_policy.Destination | None, str | None]:
    dest = _destination(sociallogin)
    if dest is None:
        return None, None
    accepted = sso_policy.check_domain(dest=dest, verified_emails=_verified_emails(sociallogin))
    return dest, sso_policy.join_role(dest=dest, accepted_email=accepted)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on on the public site, by Practika's rules (tenants.sso.policy)."""

    def list_providers(self, request):
        # A school's own server is offered from its host or its slug (tenants.sso.views), not
        # in the public login page's list of every school.
        return [
            provider
            for provider in super().list_providers(request)
            if not sso_policy.is_school_provider(getattr(provider, "sub_id", provider.id))
        ]

    def authenticate_by_email(self, sociallogin):
        # allauth offers only addresses the IdP verified; a school's server links fewer.
        found = super().authenticate_by_email(sociallogin)
        if found is None:
            return None
        user, email = found
        try:
            dest = _destination(sociallogin)
        except sso_policy.Refusal:
            return None
        provider_id = sociallogin.account.provider
        if not sso_policy.may_link(dest=dest, provider_id=provider_id, user=user, email=email):
            return None
        return found

    def pre_social_login(self, request, sociallogin):
        if sociallogin.state.get("process") == "connect":
            return  # a signed-in user adding a link to their own account
        try:
            dest, role = _join_role(sociallogin)
            if sociallogin.is_existing:
                if role is not None:
                    sso_services.sso_join(user=sociallogin.user, tenant=dest.tenant, role=role)
                return
            self._check_new_account(sociallogin, role=role)
        except DomainError as error:  # our rules, or the membership policy (a full plan)
            raise _refused(request, error) from error

    def _check_new_account(self, sociallogin, *, role: str | None) -> None:
        emails = {sociallogin.user.email.lower()} if sociallogin.user.email else set()
        emails.update(address.email.lower() for address in sociallogin.email_addresses)
        if not emails:
            raise sso_policy.Refusal(
                "Your sign-in provider did not tell us your email address.", "sso_no_email"
            )
        taken = User.objects.filter(email__in=emails).values_list("email", flat=True).first()
        if taken is not None:
            # Not linked: the IdP did not verify the address, or a school's server may not.
            raise sso_policy.Refusal(
                f"An account with {taken} already exists. Log in with its password instead.",
                "sso_account_exists",
            )
        if role is None:
            raise sso_policy.Refusal(
                "No Practika account uses this address yet. Open the invitation you were sent, "
                "or ask your school or teacher for one.",
                "sso_no_account",
            )

    def is_open_for_signup(self, request, sociallogin):
        try:
            return _join_role(sociallogin)[1] is not None
        except sso_policy.Refusal:
            return False

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.full_name = (name or "")[:150]
        return user

    def save_user(self, request, sociallogin, form=None):
        try:
            with transaction.atomic():
                user = super().save_user(request, sociallogin, form)
                dest, role = _join_role(sociallogin)
                if role is not None:
                    sso_services.sso_join(user=user, tenant=dest.tenant, role=role)
        except DomainError as error:  # the account is not kept without its membership
            raise _refused(request, error) from error
        return user
