"""The exports API on a tenant's host (`/api/v1/exports/`): ask for an export (the whole tenant
for owners and admins, one's own data for anyone), follow its progress, and download it.
Members only (the API's default permission); a member sees only the exports they asked for."""

from __future__ import annotations

from django.shortcuts import redirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning.exports import selectors, services
from learning.models import Export
from learning.storage.views import storage_errors_as_503
from tenants.api_errors import ErrorSerializer
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership


class ExportIn(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Export.Scope.choices)


class ExportOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    scope = serializers.ChoiceField(choices=Export.Scope.choices)
    state = serializers.ChoiceField(choices=Export.State.choices)
    progress = serializers.IntegerField(help_text="Percent done, 0 to 100.")
    error_message = serializers.CharField()
    size_bytes = serializers.IntegerField()
    records = serializers.IntegerField()
    files = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="When ready: the signed, short-lived download link (also emailed)."
    )

    def get_download_url(self, export: Export) -> str | None:
        return (
            services.download_link(export, api=True) if export.state == Export.State.READY else None
        )


class ExportListApi(PaginatedListMixin, APIView):
    @extend_schema(responses=ExportOut(many=True))
    def get(self, request):
        exports = selectors.exports_for(member=api_membership(request))
        return self.paginated_response(exports, ExportOut)

    @extend_schema(
        request=ExportIn,
        responses={202: ExportOut, 400: ErrorSerializer, 403: ErrorSerializer},
        description="Queue an export. Asking again while one is being written returns it.",
    )
    def post(self, request):
        data = ExportIn(data=request.data)
        data.is_valid(raise_exception=True)
        export = services.export_request(
            member=api_membership(request), scope=data.validated_data["scope"]
        )
        return Response(ExportOut(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses={200: ExportOut, 404: ErrorSerializer})
    def get(self, request, public_id):
        export = selectors.export_get(member=api_membership(request), public_id=public_id)
        return Response(ExportOut(export).data)


class ExportDownloadApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, required=True)],
        responses={
            302: None,
            403: ErrorSerializer,
            404: ErrorSerializer,
            410: ErrorSerializer,
            503: ErrorSerializer,
        },
        description="Redirects to a short-lived storage URL of the ZIP.",
    )
    @storage_errors_as_503
    def get(self, request, public_id):
        member = api_membership(request)
        export = selectors.export_get(member=member, public_id=public_id)
        url = services.export_download_url(
            member=member, export=export, token=request.query_params.get("token", "")
        )
        return redirect(url)
