"""The co-teaching API on a tenant's host (`/api/v1/`): assign a reply to a reviewer. Teachers
who can see the reply (others get the reply's 404); the inbox's and the replies list's
`class` and `assignee` filters live with them (learning.replies.apis)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.coteachers import selectors, services
from learning.exercises.apis import ReplyOut
from learning.replies import selectors as reply_selectors
from tenants.api_errors import ErrorSerializer
from tenants.permissions import api_membership


class ReplyAssignIn(serializers.Serializer):
    # A teacher's public id, or null for nobody.
    assignee = serializers.UUIDField(allow_null=True)


class ReplyAssignApi(APIView):
    @extend_schema(
        request=ReplyAssignIn,
        responses={200: ReplyOut, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, public_id):
        """Assign the reply to a reviewer who can see it (or to nobody)."""
        member = api_membership(request)
        roles.require_teacher(member)
        reply = reply_selectors.reply_get(member=member, public_id=public_id)
        data = ReplyAssignIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignee, wanted = None, data.validated_data["assignee"]
        if wanted is not None:
            assignee = selectors.reviewer_get(reply=reply, public_id=wanted)
        reply = services.reply_assign(member=member, reply=reply, assignee=assignee)
        return Response(ReplyOut(reply).data)
