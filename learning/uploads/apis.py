"""The upload API on a tenant's host (`/api/v1/`): start, resume, complete or cancel an
upload that goes straight to storage.

    POST   /api/v1/uploads/                   {purpose, filename, size, content_type}
    GET    /api/v1/uploads/<token>/           parts already stored (resume) and their URLs
    POST   /api/v1/uploads/<token>/complete/  {parts: [{number, etag}]}
    DELETE /api/v1/uploads/<token>/           cancel

Members only (the API's default permission); the services decide who may upload what. A
media file's state and playback URLs are in learning.media.apis.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import storage
from learning.exercises import selectors as exercise_selectors
from learning.models import MediaFile
from learning.storage.views import storage_errors_as_503
from learning.uploads import services as uploads
from tenants.api_errors import ErrorSerializer
from tenants.permissions import api_membership


class MediaStateOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    state = serializers.ChoiceField(choices=MediaFile.State.choices)


class PartOut(serializers.Serializer):
    number = serializers.IntegerField()
    url = serializers.CharField()
    method = serializers.CharField()


class UploadTicketOut(serializers.Serializer):
    media = MediaStateOut()
    part_size = serializers.IntegerField()
    parts = PartOut(many=True)
    complete_url = serializers.CharField()
    abort_url = serializers.CharField()
    expires_at = serializers.DateTimeField()


class StoredPartOut(serializers.Serializer):
    number = serializers.IntegerField()
    etag = serializers.CharField()
    size = serializers.IntegerField()


class UploadStatusOut(UploadTicketOut):
    uploaded_parts = StoredPartOut(many=True)


def _ticket_body(request, *, media, token, part_size, part_urls, expires_at) -> dict:
    return {
        "media": media,
        "part_size": part_size,
        "parts": [
            {"number": n, "url": request.build_absolute_uri(url), "method": "PUT"}
            for n, url in enumerate(part_urls, start=1)
        ],
        "complete_url": request.build_absolute_uri(
            reverse("api-upload-complete", kwargs={"token": token})
        ),
        "abort_url": request.build_absolute_uri(reverse("api-upload", kwargs={"token": token})),
        "expires_at": expires_at,
    }


class UploadStartApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UploadStartIn"

        purpose = serializers.ChoiceField(choices=MediaFile.Purpose.choices)
        filename = serializers.CharField(max_length=1000, allow_blank=True, default="")
        size = serializers.IntegerField(min_value=0)
        content_type = serializers.CharField(max_length=200, allow_blank=True, default="")
        # The exercise a reply is for: its upload is refused while the exercise is locked.
        exercise = serializers.UUIDField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: UploadTicketOut, 503: ErrorSerializer})
    @storage_errors_as_503
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = api_membership(request)
        arguments = dict(data.validated_data)
        if arguments["exercise"] is not None:
            arguments["exercise"] = exercise_selectors.exercise_get(
                member=member, public_id=arguments["exercise"]
            )
        ticket = uploads.upload_start(member=member, **arguments)
        body = _ticket_body(
            request, media=ticket.media, token=ticket.token, part_size=ticket.part_size,
            part_urls=ticket.part_urls, expires_at=ticket.expires_at,
        )
        return Response(UploadTicketOut(body).data, status=status.HTTP_201_CREATED)


class UploadApi(APIView):
    @extend_schema(responses={200: UploadStatusOut, 503: ErrorSerializer})
    @storage_errors_as_503
    def get(self, request, token: str):
        """Where an interrupted upload stands: the parts already stored, and fresh URLs."""
        grant, stored = uploads.upload_parts(member=api_membership(request), token=token)
        urls = uploads.upload_part_urls(grant=grant, token=token)
        body = _ticket_body(
            request, media=grant.media, token=token, part_size=grant.part_size,
            part_urls=urls, expires_at=grant.expires_at,
        )
        body["uploaded_parts"] = [
            {"number": p.number, "etag": p.etag, "size": p.size} for p in stored
        ]
        return Response(UploadStatusOut(body).data)

    @extend_schema(responses={204: None, 503: ErrorSerializer})
    @storage_errors_as_503
    def delete(self, request, token: str):
        uploads.upload_abort(member=api_membership(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PartIn(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=storage.MAX_PARTS)
    etag = serializers.CharField(max_length=200)


class UploadCompleteApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UploadCompleteIn"

        parts = PartIn(many=True, allow_empty=False, max_length=storage.MAX_PARTS)

    @extend_schema(request=InputSerializer, responses={200: MediaStateOut, 503: ErrorSerializer})
    @storage_errors_as_503
    def post(self, request, token: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        media = uploads.upload_complete(
            member=api_membership(request), token=token,
            parts=[(p["number"], p["etag"]) for p in data.validated_data["parts"]],
        )
        body = MediaStateOut(media).data | {"error_message": media.error_message}
        return Response(body)
