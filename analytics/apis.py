"""API of analytics: practice-time and compare-view beacons from the pages, and the bell."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import notifications, selectors, services
from learning.exercises import selectors as exercise_selectors
from learning.replies import selectors as reply_selectors
from tenants.permissions import api_membership


class PracticeIn(serializers.Serializer):
    reply = serializers.UUIDField(required=False, allow_null=True)
    exercise = serializers.UUIDField(required=False, allow_null=True)
    seconds = serializers.IntegerField(min_value=0, max_value=3600)
    kind = serializers.ChoiceField(choices=["playing", "recording"])


class PracticeApi(APIView):
    """Time spent playing the compare page or recording (sent by practice.js)."""

    @extend_schema(request=PracticeIn, responses={204: None})
    def post(self, request):
        data = PracticeIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = api_membership(request)
        reply = exercise = None
        if data.validated_data.get("reply"):
            reply = reply_selectors.reply_get(
                member=member, public_id=data.validated_data["reply"]
            )
        elif data.validated_data.get("exercise"):
            exercise = exercise_selectors.exercise_get(
                member=member, public_id=data.validated_data["exercise"]
            )
        services.practice_record(
            member=member, seconds=data.validated_data["seconds"],
            mode=data.validated_data["kind"], reply=reply, exercise=exercise,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CompareViewIn(serializers.Serializer):
    reply = serializers.UUIDField()


class CompareViewApi(APIView):
    """The compare page of a reply was opened (sent by practice.js on load)."""

    @extend_schema(request=CompareViewIn, responses={204: None})
    def post(self, request):
        data = CompareViewIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = api_membership(request)
        reply = reply_selectors.reply_get(
            member=member, public_id=data.validated_data["reply"]
        )
        services.compare_view_record(member=member, reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class BellOut(serializers.Serializer):
    unread = serializers.IntegerField()
    items = NotificationOut(many=True)


class NotificationListApi(APIView):
    @extend_schema(responses=BellOut)
    def get(self, request):
        api_membership(request)
        return Response(BellOut(selectors.bell_for(user=request.user, limit=20)).data)


class NotificationReadIn(serializers.Serializer):
    id = serializers.UUIDField(required=False, allow_null=True)


class NotificationReadApi(APIView):
    """Mark one notification read, or all of them without an id."""

    @extend_schema(request=NotificationReadIn, responses={200: BellOut})
    def post(self, request):
        data = NotificationReadIn(data=request.data)
        data.is_valid(raise_exception=True)
        api_membership(request)
        notifications.mark_read(user=request.user, public_id=data.validated_data.get("id"))
        return Response(BellOut(selectors.bell_for(user=request.user, limit=20)).data)
