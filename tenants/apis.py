"""The identity and tenancy API: one view per operation, each with its own input and output
serializers, calling tenants.services (writes) and tenants.selectors (reads).

Public site (`/api/v1/` on the base domain): sign-up (started here, finished from the emailed
link), my tenants. A tenant's host
(`/api/v1/` on `<slug>.<base domain>`): the tenant, its members, invitations, join code.
Every route on a tenant's host is members-only through the default permission class
(tenants.permissions.IsTenantMember); the few that non-members need (join with a code,
accept an invitation) say so explicitly.
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
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import hosts, selectors, services, tokens
from tenants.api_errors import ErrorSerializer
from tenants.errors import NotFound
from tenants.mfa import policy as mfa
from tenants.models import STAFF_ROLES, ApiToken, Role, Tenant, User
from tenants.pagination import PaginatedListMixin
from tenants.permissions import (
    IsAuthenticatedOnActiveTenant,
    IsTenantAdmin,
    IsTenantTeacher,
    api_membership,
)

# drf-spectacular also describes dj-rest-auth's registration views, and importing them needs
# allauth.socialaccount, which Practika does not use (sign-up is SignupApi): without this the
# schema build warns on every run, hiding warnings that matter.
for _extension in (
    spectacular_rest_auth.RestAuthRegisterView,
    spectacular_rest_auth.RestAuthVerifyEmailView,
    spectacular_rest_auth.RestAuthResendEmailVerificationView,
):
    _extension.target_class = None

# --- Shared output shapes -----------------------------------------------------------------


class TenantSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Tenant.Kind.choices)
    url = serializers.SerializerMethodField()

    def get_url(self, tenant: Tenant) -> str:
        return hosts.tenant_url(tenant.slug)


class UserSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    display_name = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    last_active_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class InvitationSerializer(serializers.Serializer):
    # The token is deliberately absent: it is the invitee's credential and travels by email.
    public_id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)


# --- dj-rest-auth hooks (REST_AUTH settings) ----------------------------------------------


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


# --- API tokens (/api/v1/auth/ on every host) ---------------------------------------------


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


# --- Public site --------------------------------------------------------------------------


class SignupApi(APIView):
    """Start a sign-up for an account that owns a new studio or school.

    The answer is the same whether or not the address has an account: an email goes to the
    address, with a link that finishes the sign-up on the web (choose a password, then the
    new tenant opens), or, for an address that has an account, a notice. Only the studio or
    school fields are checked here (a taken web address is refused with a suggestion).
    """

    permission_classes = (AllowAny,)
    throttle_scope = "signup"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        full_name = serializers.CharField(max_length=150, required=False, default="")
        tenant_name = serializers.CharField(max_length=120)
        slug = serializers.SlugField(max_length=40)
        kind = serializers.ChoiceField(choices=Tenant.Kind.choices)

        class Meta:
            ref_name = "SignupInput"

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()

        class Meta:
            ref_name = "SignupOutput"

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.signup_start(**data.validated_data)
        body = {
            "code": "signup_email_sent",
            "message": "Check your email: the link in it finishes the sign-up.",
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class MyTenantsApi(APIView):
    """The studios and schools I belong to, with my role in each."""

    permission_classes = (IsAuthenticated,)

    class OutputSerializer(serializers.Serializer):
        public_id = serializers.UUIDField()
        role = serializers.ChoiceField(choices=Role.choices)
        tenant = TenantSummarySerializer()

        class Meta:
            ref_name = "MyTenant"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        memberships = selectors.memberships_for_user(user=request.user)
        return Response(self.OutputSerializer(memberships, many=True).data)


# --- A tenant's host ----------------------------------------------------------------------


class TenantDetailApi(APIView):
    """The tenant of this host and my role in it."""

    class OutputSerializer(serializers.Serializer):
        public_id = serializers.UUIDField()
        name = serializers.CharField()
        slug = serializers.SlugField()
        kind = serializers.ChoiceField(choices=Tenant.Kind.choices)
        role = serializers.ChoiceField(choices=Role.choices)
        join_code = serializers.CharField(
            allow_null=True, help_text="Shown to owners, admins and teachers only."
        )

        class Meta:
            ref_name = "TenantDetail"

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        tenant = request.tenant
        membership = api_membership(request)
        body = {
            "public_id": tenant.public_id,
            "name": tenant.name,
            "slug": tenant.slug,
            "kind": tenant.kind,
            "role": membership.role,
            # Teachers hand the code out in class; students have no use for it.
            "join_code": tenant.join_code if membership.role in STAFF_ROLES else None,
        }
        return Response(self.OutputSerializer(body).data)


class MemberListApi(PaginatedListMixin, APIView):
    """Members of this tenant, optionally of one role.

    Teachers and admins only: in a school, students should not get each other's email
    addresses.
    """

    permission_classes = (IsTenantTeacher,)

    class FilterSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices, required=False)

        class Meta:
            ref_name = "MemberFilter"

    @extend_schema(
        parameters=[OpenApiParameter("role", enum=Role.values, required=False)],
        responses=MemberSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        members = selectors.members_for_tenant(
            tenant=request.tenant, role=filters.validated_data.get("role")
        )
        return self.paginated_response(members, MemberSerializer)


def _member(request, public_id):
    membership = selectors.member_in_tenant(tenant=request.tenant, public_id=public_id)
    if membership is None:
        raise NotFound("There is no such member here.", code="not_found")
    return membership


class MemberUpdateApi(APIView):
    """Change a member's role (owners and admins)."""

    permission_classes = (IsTenantAdmin,)

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

        class Meta:
            ref_name = "MemberUpdateInput"

    @extend_schema(request=InputSerializer, responses=MemberSerializer)
    def patch(self, request, public_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            membership=_member(request, public_id), role=data.validated_data["role"],
            actor=request.user,
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        services.membership_remove(membership=_member(request, public_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListCreateApi(PaginatedListMixin, APIView):
    """Pending invitations; invite someone by email (owners and admins)."""

    permission_classes = (IsTenantAdmin,)

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=[Role.ADMIN, Role.TEACHER, Role.STUDENT])

        class Meta:
            ref_name = "InvitationCreateInput"

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request):
        invitations = selectors.pending_invitations(tenant=request.tenant).order_by("-created_at")
        return self.paginated_response(invitations, InvitationSerializer)

    @extend_schema(request=InputSerializer, responses={201: InvitationSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            tenant=request.tenant, actor=request.user, **data.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationRevokeApi(APIView):
    """Withdraw a pending invitation (owners and admins)."""

    permission_classes = (IsTenantAdmin,)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, public_id):
        invitation = selectors.invitation_in_tenant(tenant=request.tenant, public_id=public_id)
        if invitation is None:
            raise NotFound("There is no such invitation here.", code="not_found")
        services.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JoinCodeRotateApi(APIView):
    """Issue a new join code; the old one stops working (owners and admins)."""

    permission_classes = (IsTenantAdmin,)

    class OutputSerializer(serializers.Serializer):
        join_code = serializers.CharField()

        class Meta:
            ref_name = "JoinCode"

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        code = services.join_code_rotate(tenant=request.tenant, actor=request.user)
        return Response(self.OutputSerializer({"join_code": code}).data)


class MembershipOutputSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)
    tenant = TenantSummarySerializer()


class JoinApi(APIView):
    """Join this tenant as a student with its join code (any logged-in person)."""

    # Open to non-members by design: joining is how they become members.
    permission_classes = (IsAuthenticatedOnActiveTenant,)

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=32)

        class Meta:
            ref_name = "JoinInput"

    @extend_schema(
        request=InputSerializer, responses={200: MembershipOutputSerializer, 410: ErrorSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.join_with_code(
            tenant=request.tenant, code=data.validated_data["code"], user=request.user
        )
        return Response(MembershipOutputSerializer(membership).data)


class InvitationAcceptApi(APIView):
    """Accept an invitation to this tenant as the logged-in person, who must have the invited
    email address (403 `invitation_email_mismatch` otherwise; nothing changes)."""

    # Open to non-members by design: the invitation token and the invited address together
    # are the credential.
    permission_classes = (IsAuthenticatedOnActiveTenant,)

    @extend_schema(
        request=None, responses={200: MembershipOutputSerializer, 410: ErrorSerializer}
    )
    def post(self, request, token):
        membership = services.invitation_accept(
            token=token, tenant=request.tenant, user=request.user
        )
        return Response(MembershipOutputSerializer(membership).data)
