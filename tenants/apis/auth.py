"""`/api/v1/auth/` on the public site and on every tenant's host: the serializers dj-rest-auth
uses (named in REST_AUTH in settings: email login with allauth's limits and two-factor codes,
password reset and change through allauth's adapter), our logout, and the API token list.
"""

from __future__ import annotations

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from allauth.core import ratelimit
from dj_rest_auth import serializers as rest_auth_serializers
from dj_rest_auth.serializers import LoginSerializer
from django.contrib.auth import logout as django_logout
from django.core.exceptions import ValidationError as DjangoValidationError
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.contrib import rest_auth as spectacular_rest_auth
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import tokens
from tenants.errors import NotFound
from tenants.mfa import policy as mfa
from tenants.models import ApiToken, User

# drf-spectacular also describes dj-rest-auth's registration views, and importing them needs
# allauth.socialaccount, which Practika does not use (sign-up is SignupApi): without this the
# schema build warns on every run, hiding warnings that matter.
for _extension in (
    spectacular_rest_auth.RestAuthRegisterView,
    spectacular_rest_auth.RestAuthVerifyEmailView,
    spectacular_rest_auth.RestAuthResendEmailVerificationView,
):
    _extension.target_class = None


class EmailLoginSerializer(LoginSerializer):
    """Email + password login for `/api/v1/auth/login/`, rate-limited like the web login.

    dj-rest-auth calls `django.contrib.auth.authenticate` directly, which skips allauth's
    failed-login limits; going through the adapter applies them. The limits are counted in
    the public schema: cache keys carry the schema, so counting on the tenant's host would
    give an attacker a fresh allowance on every tenant's host.
    """

    username = None  # type: ignore[assignment]
    email = serializers.EmailField()
    code = serializers.CharField(required=False, write_only=True, help_text=mfa.CODE_HELP)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        mfa.check_api_login(user=attrs["user"], code=attrs.get("code"))
        return attrs

    def authenticate(self, **kwargs):
        request = self.context["request"]
        with schema_context(get_public_schema_name()):
            try:
                return get_adapter(request).authenticate(request, **kwargs)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from error


class UserDetailsSerializer(serializers.ModelSerializer):
    """`/api/v1/auth/user/`: the account itself, the same on every host."""

    class Meta:
        model = User
        fields = ("public_id", "email", "full_name")
        read_only_fields = ("public_id", "email")


class TokenIssuedSerializer(serializers.Serializer):
    """What `/api/v1/auth/login/` answers: the new token's key (shown once) and its lifetime."""

    key = serializers.CharField(help_text='Send it as "Authorization: Token <key>".')
    public_id = serializers.UUIDField(
        source="token.public_id", help_text="Names the token in /api/v1/auth/tokens/."
    )
    expiry = serializers.DateTimeField(source="token.expiry", allow_null=True)

    class Meta:
        ref_name = "TokenIssued"


def _public_rate_limit(request, *, action: str, **kwargs) -> None:
    # allauth's limits (ACCOUNT_RATE_LIMITS), counted in the public schema like the login's, so
    # that a tenant's host does not give a fresh allowance (cache keys carry the schema).
    with schema_context(get_public_schema_name()):
        allowed = ratelimit.consume(request._request, action=action, **kwargs)
    if not allowed:
        raise exceptions.Throttled()


class PasswordResetSerializer(rest_auth_serializers.PasswordResetSerializer):
    """`/api/v1/auth/password/reset/`: the web page's form and email, limited the same way.

    allauth's own form emails a link to our reset page on the host that was asked, and an
    unknown address gets a note instead, so the answer is the same whether or not the
    account exists.
    """

    @property
    def password_reset_form_class(self):
        return ResetPasswordForm

    def validate_email(self, value):
        value = super().validate_email(value)
        _public_rate_limit(
            self.context["request"], action="reset_password", key=value.strip().lower()
        )
        return value

    def save(self):
        self.reset_form.save(self.context["request"]._request)


class PasswordResetConfirmSerializer(rest_auth_serializers.PasswordResetConfirmSerializer):
    """`/api/v1/auth/password/reset/confirm/`: uid and token from the emailed link."""

    def save(self):
        request = self.context["request"]
        password = self.set_password_form.cleaned_data["new_password1"]
        # Through allauth's adapter, like the web page: it revokes every API token.
        get_adapter(request._request).set_password(self.user, password)
        account_signals.password_reset.send(
            sender=self.user.__class__, request=request._request, user=self.user
        )
        return self.user


class PasswordChangeSerializer(rest_auth_serializers.PasswordChangeSerializer):
    """`/api/v1/auth/password/change/`: needs the current password; revokes every token.

    A stolen token alone cannot set a new password, and it stops working once the owner
    changes theirs (the caller's token too: log in again with the new password).
    """

    def validate_old_password(self, value):
        # Guessing the current password with a stolen token meets allauth's page limit.
        _public_rate_limit(self.context["request"], action="change_password", user=self.user)
        return super().validate_old_password(value)

    def save(self):
        request = self.context["request"]
        password = self.set_password_form.cleaned_data["new_password1"]
        get_adapter(request._request).set_password(self.user, password)
        account_signals.password_changed.send(
            sender=self.user.__class__, request=request._request, user=self.user
        )


# --- API tokens ---------------------------------------------------------------------------


class ApiTokenSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(
        help_text="Whether this is the token that made the request."
    )

    class Meta:
        ref_name = "ApiToken"

    def get_current(self, token) -> bool:
        return token.pk == getattr(self.context.get("current"), "pk", None)


class LogoutApi(APIView):
    """Log out: revoke the token that made the call (or end the session that did)."""

    permission_classes = (IsAuthenticated,)
    throttle_scope = "dj_rest_auth"

    class OutputSerializer(serializers.Serializer):
        detail = serializers.CharField()

        class Meta:
            ref_name = "LogoutOutput"

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            tokens.api_token_revoke(token=request.auth)
        else:
            django_logout(request._request)
        return Response(self.OutputSerializer({"detail": "Successfully logged out."}).data)


class ApiTokenListApi(APIView):
    """My API tokens that still authenticate, newest first (at most TOKENS_PER_USER)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        mine = tokens.api_tokens_for_user(user=request.user)
        context = {"current": request.auth}
        return Response(ApiTokenSerializer(mine, many=True, context=context).data)


class ApiTokenRevokeApi(APIView):
    """Revoke one of my API tokens; it stops authenticating at once."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, public_id):
        token = tokens.api_token_of_user(user=request.user, public_id=public_id)
        if token is None:
            raise NotFound("You have no such token.", code="not_found")
        tokens.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
