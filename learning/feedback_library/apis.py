"""The feedback library's API (`/api/v1/feedback-library/`): a teacher's saved comments and the
school's shared ones. Teachers of the tenant only (students get 403, other tenants' ids 404)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning.exercises.apis import FORMER_MEMBER
from learning.feedback_library import selectors, services
from tenants.api_errors import ErrorSerializer
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership


class OwnerOut(serializers.Serializer):
    """Who saved it; null id and "Former member" once they were deleted (a shared one stays)."""

    public_id = serializers.UUIDField(allow_null=True)
    display_name = serializers.CharField()

    def to_representation(self, instance):
        if instance.owner is None:
            return {"public_id": None, "display_name": FORMER_MEMBER}
        return super().to_representation(instance.owner)


class SavedCommentOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    body = serializers.CharField()  # plain text: clients must render it as text, never HTML
    shared = serializers.BooleanField()
    use_count = serializers.IntegerField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    owner = OwnerOut(source="*")
    can_manage = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_can_manage(self, saved) -> bool:
        return selectors.may_manage(member=self.context["member"], saved=saved)


class SavedCommentFilter(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=selectors.MAX_QUERY)
    scope = serializers.ChoiceField(choices=selectors.SCOPES, required=False, default="all")


class SavedCommentIn(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY, allow_blank=True)
    shared = serializers.BooleanField(required=False, default=False)


class SavedCommentUpdateIn(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY, allow_blank=True, required=False)
    shared = serializers.BooleanField(required=False)


class SavedCommentListApi(PaginatedListMixin, APIView):
    @extend_schema(
        parameters=[SavedCommentFilter],
        responses={200: SavedCommentOut(many=True), 403: ErrorSerializer},
    )
    def get(self, request):
        member = api_membership(request)
        filters = SavedCommentFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        saved = selectors.saved_comments_for(member=member, **filters.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(saved, request, view=self)
        data = SavedCommentOut(page, many=True, context={"member": member}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=SavedCommentIn, responses={201: SavedCommentOut, 400: ErrorSerializer})
    def post(self, request):
        member = api_membership(request)
        data = SavedCommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.saved_comment_create(member=member, **data.validated_data)
        out = SavedCommentOut(saved, context={"member": member}).data
        return Response(out, status=status.HTTP_201_CREATED)


class SavedCommentDetailApi(APIView):
    @extend_schema(responses={200: SavedCommentOut, 404: ErrorSerializer})
    def get(self, request, public_id):
        member = api_membership(request)
        saved = selectors.saved_comment_get(member=member, public_id=public_id)
        return Response(SavedCommentOut(saved, context={"member": member}).data)

    @extend_schema(
        request=SavedCommentUpdateIn,
        responses={200: SavedCommentOut, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def patch(self, request, public_id):
        member = api_membership(request)
        saved = selectors.saved_comment_get(member=member, public_id=public_id)
        data = SavedCommentUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.saved_comment_update(member=member, saved=saved, **data.validated_data)
        return Response(SavedCommentOut(saved, context={"member": member}).data)

    @extend_schema(responses={204: None, 403: ErrorSerializer, 404: ErrorSerializer})
    def delete(self, request, public_id):
        member = api_membership(request)
        saved = selectors.saved_comment_get(member=member, public_id=public_id)
        services.saved_comment_delete(member=member, saved=saved)
        return Response(status=status.HTTP_204_NO_CONTENT)
