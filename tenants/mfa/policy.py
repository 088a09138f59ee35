"""Who must use two-factor authentication, and whether a session has confirmed it."""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.base.forms import BaseAuthenticateForm
from allauth.mfa.models import Authenticator
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.errors import DomainError
from tenants.models import STAFF_ROLES, Membership, Tenant, User

CODE_HELP = "For accounts with two-factor authentication: an authenticator or recovery code."

# The authenticators that make a second factor; recovery codes only back them up.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_authenticator(*, user: User) -> bool:
    """Whether `user` has set up a second factor (an authenticator app or a security key)."""
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


def is_required(*, user: User, tenant: Tenant, membership: Membership | None) -> bool:
    """Whether `user` must have a second factor on `tenant`'s host (the public site's stand-in
    tenant has schema "public")."""
    if tenant.schema_name == get_public_schema_name():
        return bool(user.is_staff or user.is_superuser)
    return bool(
        tenant.mfa_required and membership is not None and membership.role in STAFF_ROLES
    )


def session_confirmed(request: HttpRequest, *, user: User) -> bool:
    """Whether this session was confirmed with `user`'s second factor (allauth's record)."""
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


def confirm_session(request: HttpRequest, *, user: User, via: str) -> None:
    """Record in the session that `user` confirmed a second factor, as allauth's login step does."""
    authenticator = (
        Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).order_by("pk").first()
    )
    if authenticator is not None:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, via=via
        )


def handover_redeemed(request: HttpRequest, *, user: User) -> None:
    """After a login handover: the public session that minted it was confirmed (the middleware
    lets no unconfirmed session of a user with an authenticator reach a page), so this one is."""
    confirm_session(request, user=user, via="handover")


def check_api_login(*, user: User, code: str | None) -> None:
    """Refuse an API login (`POST /api/v1/auth/login/`) of a user with a second factor unless
    `code` is a current code from their authenticator app or an unused recovery code."""
    if not has_authenticator(user=user):
        return
    if not code:
        raise DomainError(
            "This account uses two-factor authentication: send a code from your "
            "authenticator app (or a recovery code) as `code` with the email and password.",
            code="mfa_required",
        )
    # allauth's own check: TOTP (a code works once) and recovery codes (each used up), with
    # its failed-attempt limit per account, shared with the web login (tenants.mfa.forms).
    form = BaseAuthenticateForm(user=user, data={"code": code})
    with schema_context(get_public_schema_name()):
        valid = form.is_valid()
    if not valid:
        raise DomainError(" ".join(form.errors.get("code", [])), code="mfa_code_invalid")
    form.authenticator.record_usage()


def authenticator_added_confirms_session(sender, *, request, user, authenticator, **kwargs):
    """allauth's `authenticator_added`: setting up an app or a key took a valid code from it."""
    if request is not None and authenticator.type in SECOND_FACTORS:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, via="enrolment"
        )
