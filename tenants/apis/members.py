"""A tenant's host: the tenant and its members (members-only by default, see
tenants.permissions.IsTenantMember; listing needs a teacher, changes an owner or admin)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import selectors, services
from tenants.apis.shapes import MemberSerializer
from tenants.errors import NotFound
from tenants.models import STAFF_ROLES, Role, Tenant
from tenants.pagination import PaginatedListMixin
from tenants.permissions import (
    IsTenantAdmin,
    IsTenantTeacher,
    api_membership,
)


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
