"""API tokens: issued at login, expiring, listed and revoked by their owner, and all revoked
when the owner's password changes or is reset.

django-rest-knox does the cryptography (random keys, only a digest stored, expiry checked on
every request); tenants.models.ApiToken adds a public id to name a token in URLs. Clients
send `Authorization: Token <key>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from tenants.models import ApiToken, User

# Logging in again and again must not pile up live tokens: past this many, the oldest go.
TOKENS_PER_USER = 20


@dataclass(frozen=True)
class IssuedToken:
    """A new token with its key, which exists only here: the database keeps its digest."""

    key: str
    token: ApiToken


@transaction.atomic
def api_token_create(*, user: User) -> IssuedToken:
    """Issue a token for `user` (lifetime REST_KNOX["TOKEN_TTL"]); revoke the oldest extras."""
    token, key = ApiToken.objects.create(user=user)
    extra = list(
        ApiToken.objects.filter(user=user)
        .order_by("-created")
        .values_list("pk", flat=True)[TOKENS_PER_USER:]
    )
    if extra:
        ApiToken.objects.filter(pk__in=extra).delete()
    return IssuedToken(key=key, token=token)


def api_token_create_for_login(token_model, user: User, serializer) -> IssuedToken:
    """dj-rest-auth's TOKEN_CREATOR: every login gets its own token, revoked by its logout."""
    return api_token_create(user=user)


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke one token: it stops authenticating at once."""
    ApiToken.objects.filter(pk=token.pk).delete()


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of `user` (after a password change or reset); returns how many."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The tokens of `user` that still authenticate, newest first."""
    return ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    ).order_by("-created")


def api_token_of_user(*, user: User, public_id) -> ApiToken | None:
    """One token of `user` by public id; someone else's token is None, like a missing one."""
    return api_tokens_for_user(user=user).filter(public_id=public_id).first()


class ApiTokenAuthentication(TokenAuthentication):
    """knox's authentication, refusing a key that is not text (knox would raise a 500)."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        return super().authenticate_credentials(token)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    # The same security scheme as before the switch to expiring tokens, so clients generated
    # from the schema keep sending `Authorization: Token <key>`.
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token from /api/v1/auth/login/, sent with the prefix "Token".',
        }
