"""The media API on a tenant's host: `GET /api/v1/media/<id>/` — a media file's state, error,
and short-lived playback URLs once it is ready.

Members only (the API's default permission). Who may play what is decided in
`learning.media.selectors.media_visible_to`: a reply's media only to its student and the
teachers, a demonstration to the students its exercise is assigned to.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.media import selectors, services
from learning.models import MediaFile
from learning.storage.views import storage_errors_as_503
from tenants.api_errors import ErrorSerializer
from tenants.permissions import api_membership


class MediaPlaybackOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    purpose = serializers.ChoiceField(choices=MediaFile.Purpose.choices)
    state = serializers.ChoiceField(choices=MediaFile.State.choices)
    error_message = serializers.CharField()
    original_name = serializers.CharField()
    duration_s = serializers.FloatField(allow_null=True)
    has_video = serializers.BooleanField()
    has_audio = serializers.BooleanField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    waveform = serializers.ListField(child=serializers.FloatField())
    renditions = serializers.DictField(child=serializers.CharField())
    poster_url = serializers.CharField(allow_null=True)
    urls_expire_at = serializers.DateTimeField(allow_null=True)


class MediaDetailApi(APIView):
    @extend_schema(responses={200: MediaPlaybackOut, 503: ErrorSerializer})
    @storage_errors_as_503
    def get(self, request, public_id):
        """A media file's state and, once ready, short-lived URLs to play it."""
        media = selectors.media_get(member=api_membership(request), public_id=public_id)
        playback = services.media_playback(media=media)
        absolute = request.build_absolute_uri
        member = api_membership(request)
        # A classmate's recording (peer review) keeps its file name to itself: it may name them.
        classmates = media.purpose == MediaFile.Purpose.REPLY and media.owner_id != member.user_id
        original_name = "" if classmates and not roles.is_teacher(member) else media.original_name
        body = {
            "public_id": media.public_id, "purpose": media.purpose, "state": media.state,
            "error_message": media.error_message, "original_name": original_name,
            "duration_s": media.duration_s, "has_video": media.has_video,
            "has_audio": media.has_audio, "width": media.width, "height": media.height,
            "waveform": media.waveform if playback else [],
            "renditions": (
                {name: absolute(url) for name, url in playback.renditions.items()}
                if playback else {}
            ),
            "poster_url": absolute(playback.poster) if playback and playback.poster else None,
            "urls_expire_at": playback.expires_at if playback else None,
        }
        return Response(MediaPlaybackOut(body).data)
