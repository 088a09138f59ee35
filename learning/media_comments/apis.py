"""How the comment API shows a comment's recording (`CommentOut.media`): its state and, once
it is ready, a short-lived signed URL to play it (learning.media.services.media_playback, the
same URLs as the compare page's players). The upload itself goes through the upload API
(purpose `comment`), and the comment takes it by id (`POST .../comments/ {"media": id}`)."""

from __future__ import annotations

from rest_framework import serializers

from learning.media import services as media_services
from learning.models import MediaFile


class CommentMediaOut(serializers.Serializer):
    """A comment's recording; `kind`, `src` and `poster` are null until it is ready."""

    public_id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=MediaFile.State.choices)
    error_message = serializers.CharField()
    kind = serializers.ChoiceField(choices=["video", "audio"], allow_null=True)  # once ready
    duration_s = serializers.FloatField(allow_null=True)
    src = serializers.CharField(allow_null=True)
    poster = serializers.CharField(allow_null=True)

    def to_representation(self, instance: MediaFile) -> dict:
        playback = media_services.media_playback(media=instance)
        urls = playback.renditions if playback else {}
        has_video = instance.has_video
        return {
            "public_id": str(instance.public_id),
            "state": instance.state,
            "error_message": instance.error_message,
            "kind": ("video" if has_video else "audio") if playback else None,
            "duration_s": instance.duration_s,
            "src": urls.get("720p") or urls.get("audio") or None,
            "poster": playback.poster if playback and has_video else None,
        }
