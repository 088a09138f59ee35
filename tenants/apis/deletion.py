"""Deletion through the API (tenant host): the owner schedules or cancels the tenant's
deletion, a member deletes their own data here, an owner or admin deletes a member's, and the
school's data policy. The same services as the pages (tenants.services.deletion)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import selectors, services
from tenants.errors import DomainError, NotFound
from tenants.models import CommentsOnDeletion, Role
from tenants.permissions import HasTenantRole, IsTenantAdmin, api_membership
from tenants.services.deletion import MAX_RETENTION_DAYS


class IsTenantOwner(HasTenantRole):
    message = "Only an owner can do this."
    roles = frozenset({Role.OWNER})


class ConfirmationIn(serializers.Serializer):
    confirmation = serializers.CharField(max_length=254)

    class Meta:
        ref_name = "DeletionConfirmation"


class TenantDeletionOut(serializers.Serializer):
    scheduled = serializers.BooleanField()
    requested_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "TenantDeletion"


def _deletion_body(tenant) -> dict:
    return TenantDeletionOut(
        {
            "scheduled": tenant.is_closing,
            "requested_at": tenant.deletion_requested_at,
            "due_at": tenant.deletion_due_at,
        }
    ).data


class TenantDeletionApi(APIView):
    """The tenant's deletion: its state, asking for it (type the tenant's slug as
    `confirmation`), and cancelling it within the grace period. Owners only; open while the
    deletion is scheduled, so that it can be cancelled."""

    permission_classes = (IsTenantOwner,)
    open_while_closing = True

    @extend_schema(responses=TenantDeletionOut)
    def get(self, request):
        return Response(_deletion_body(request.tenant))

    @extend_schema(request=ConfirmationIn, responses={202: TenantDeletionOut})
    def post(self, request):
        data = ConfirmationIn(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_deletion_request(
            tenant=request.tenant,
            actor=request.user,
            confirmation=data.validated_data["confirmation"],
        )
        return Response(_deletion_body(tenant), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=TenantDeletionOut)
    def delete(self, request):
        tenant = services.tenant_deletion_cancel(tenant=request.tenant, actor=request.user)
        return Response(_deletion_body(tenant))


class MemberDeletionOut(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        ref_name = "MemberDeletion"


def _check_email(membership, confirmation: str) -> None:
    if confirmation.strip().lower() != membership.user.email.lower():
        raise DomainError(
            "Type the member's email address exactly as `confirmation`.",
            code="confirmation_mismatch",
        )


class MyDeletionApi(APIView):
    """Leave this tenant and delete my data here (type my email address as `confirmation`);
    my account goes too when I belong to no other tenant."""

    @extend_schema(request=ConfirmationIn, responses=MemberDeletionOut)
    def post(self, request):
        data = ConfirmationIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = api_membership(request)
        _check_email(membership, data.validated_data["confirmation"])
        counts = services.member_delete(membership=membership, actor=request.user)
        return Response(MemberDeletionOut({"counts": counts}).data)


class MemberDeletionApi(APIView):
    """Remove a member and delete their data (owners and admins; type the member's email
    address as `confirmation`)."""

    permission_classes = (IsTenantAdmin,)

    @extend_schema(request=ConfirmationIn, responses=MemberDeletionOut)
    def post(self, request, public_id):
        data = ConfirmationIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = selectors.member_in_tenant(tenant=request.tenant, public_id=public_id)
        if membership is None:
            raise NotFound("There is no such member here.", code="not_found")
        _check_email(membership, data.validated_data["confirmation"])
        counts = services.member_delete(membership=membership, actor=request.user)
        return Response(MemberDeletionOut({"counts": counts}).data)


class DataPolicySerializer(serializers.Serializer):
    member_comments_on_deletion = serializers.ChoiceField(choices=CommentsOnDeletion.choices)
    reply_retention_days = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        max_value=MAX_RETENTION_DAYS,
        help_text="Days replies are kept after a class's end date; null keeps them.",
    )

    class Meta:
        ref_name = "DataPolicy"


class DataPolicyApi(APIView):
    """The school's data policy (owners and admins)."""

    permission_classes = (IsTenantAdmin,)

    @extend_schema(responses=DataPolicySerializer)
    def get(self, request):
        return Response(DataPolicySerializer(request.tenant).data)

    @extend_schema(request=DataPolicySerializer, responses=DataPolicySerializer)
    def put(self, request):
        data = DataPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_data_policy_set(
            tenant=request.tenant,
            actor=request.user,
            member_comments=data.validated_data["member_comments_on_deletion"],
            reply_retention_days=data.validated_data["reply_retention_days"],
        )
        return Response(DataPolicySerializer(tenant).data)
