"""A tenant's host: invitations and the join code. Owners and admins manage them; joining
with a code and accepting an invitation are open to non-members by design (they are how
people become members)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import selectors, services
from tenants.api_errors import ErrorSerializer
from tenants.apis.shapes import InvitationSerializer, MembershipOutputSerializer
from tenants.errors import NotFound
from tenants.models import Role
from tenants.pagination import PaginatedListMixin
from tenants.permissions import (
    IsAuthenticatedOnActiveTenant,
    IsTenantAdmin,
)


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
