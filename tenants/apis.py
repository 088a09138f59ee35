"""The identity and tenancy API: one view per operation, each with its own input and output
serializers, calling tenants.services (writes) and tenants.selectors (reads).

Public site (`/api/v1/` on the base domain): sign-up, my tenants. A tenant's host
(`/api/v1/` on `<slug>.<base domain>`): the tenant, its members, invitations, join code.
Every route on a tenant's host is members-only through the default permission class
(tenants.permissions.IsTenantMember); the few that non-members need (join with a code,
accept an invitation) say so explicitly.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from dj_rest_auth.serializers import LoginSerializer
from django.core.exceptions import ValidationError as DjangoValidationError
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.contrib import rest_auth as spectacular_rest_auth
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import hosts, selectors, services
from tenants.api_errors import ErrorSerializer
from tenants.errors import NotFound
from tenants.models import STAFF_ROLES, Role, Tenant, User
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


# --- Public site --------------------------------------------------------------------------


class SignupApi(APIView):
    """Create an account that owns a new studio or school."""

    permission_classes = (AllowAny,)
    throttle_scope = "signup"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(style={"input_type": "password"}, write_only=True)
        full_name = serializers.CharField(max_length=150, required=False, default="")
        tenant_name = serializers.CharField(max_length=120)
        slug = serializers.SlugField(max_length=40)
        kind = serializers.ChoiceField(choices=Tenant.Kind.choices)

        class Meta:
            ref_name = "SignupInput"

    class OutputSerializer(serializers.Serializer):
        tenant = TenantSummarySerializer()
        handover_url = serializers.URLField(
            help_text="Single-use link, valid for a minute, that logs the new owner in on "
            "the tenant's host."
        )

        class Meta:
            ref_name = "SignupOutput"

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.signup_with_tenant(**data.validated_data)
        handover_url = services.handover_create(user=result.user, tenant=result.tenant)
        body = self.OutputSerializer({"tenant": result.tenant, "handover_url": handover_url}).data
        return Response(body, status=status.HTTP_201_CREATED)


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
    """Accept an invitation to this tenant as the logged-in person."""

    # Open to non-members by design: the invitation token is the credential.
    permission_classes = (IsAuthenticatedOnActiveTenant,)

    @extend_schema(
        request=None, responses={200: MembershipOutputSerializer, 410: ErrorSerializer}
    )
    def post(self, request, token):
        membership = services.invitation_accept(
            token=token, tenant=request.tenant, user=request.user
        )
        return Response(MembershipOutputSerializer(membership).data)
