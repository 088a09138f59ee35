"""The replies API on a tenant's host (`/api/v1/`): replies, the inbox, reviews, the sync
offset, seen marks and time-coded comments. One view per operation; members only (the API's
default permission); the services decide what each role may do."""

from __future__ import annotations

import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.coteachers import selectors as coteacher_selectors
from learning.errors import NotFound
from learning.exercises import selectors as exercise_selectors
from learning.exercises.apis import CommentOut, CommentThreadOut, ReplyOut
from learning.models import Comment, MediaFile, Reply
from learning.peer_review import selectors as peer_selectors
from learning.replies import selectors, services
from tenants.api_errors import ErrorSerializer
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership

# --- Replies ------------------------------------------------------------------------------


class ReplyIn(serializers.Serializer):
    exercise = serializers.UUIDField()
    media = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CoteachingFilter(serializers.Serializer):
    # `class`: a class's public id; `assignee`: "me", "unassigned" or a teacher's public id.
    # An id that names nothing here is a 400 like any other filter value at fault.
    class_ = serializers.UUIDField(required=False)
    assignee = serializers.CharField(required=False, max_length=40)

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = fields.pop("class_")
        return fields

    def validate(self, attrs):
        resolve = {
            "class": lambda value: coteacher_selectors.classroom_get(public_id=value),
            "assignee": lambda value: coteacher_selectors.assignee_get(value=value),
        }
        for name, get in resolve.items():
            if attrs.get(name):
                try:
                    attrs[name] = get(attrs[name])
                except NotFound as error:
                    raise serializers.ValidationError({name: error.message}) from None
        return attrs

    def validate_assignee(self, value: str):
        if value in (selectors.ME, selectors.UNASSIGNED):
            return value
        try:
            return uuid.UUID(value)
        except ValueError:
            raise serializers.ValidationError(
                "Give “me”, “unassigned” or a teacher's public id."
            ) from None

    def resolved(self) -> dict:
        """The filters as `learning.replies.selectors.replies_filtered` takes them."""
        data = self.validated_data
        return {"classroom": data.get("class"), "assignee": data.get("assignee")}


class ReplyFilter(CoteachingFilter):
    exercise = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Reply.Status.choices, required=False)


class ReplyListApi(PaginatedListMixin, APIView):
    @extend_schema(parameters=[ReplyFilter], responses=ReplyOut(many=True))
    def get(self, request):
        member = api_membership(request)
        filters = ReplyFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        replies = selectors.replies_filtered(
            selectors.replies_visible_to(member=member), member=member, **filters.resolved()
        )
        if exercise := filters.validated_data.get("exercise"):
            replies = replies.filter(exercise__public_id=exercise)
        if reply_status := filters.validated_data.get("status"):
            replies = replies.filter(status=reply_status)
        return self.paginated_response(replies.order_by("-created_at"), ReplyOut)

    @extend_schema(request=ReplyIn, responses={201: ReplyOut})
    def post(self, request):
        member = api_membership(request)
        data = ReplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = exercise_selectors.exercise_get(
            member=member, public_id=data.validated_data["exercise"]
        )
        media = MediaFile.objects.filter(public_id=data.validated_data["media"]).first()
        if media is None:
            raise NotFound("That recording does not exist.", code="media_not_found")
        reply = services.reply_create(
            member=member, exercise=exercise, media=media, note=data.validated_data["note"]
        )
        return Response(ReplyOut(reply).data, status=status.HTTP_201_CREATED)


class InboxApi(PaginatedListMixin, APIView):
    """Replies awaiting feedback that the teacher may see, oldest first (teachers)."""

    @extend_schema(parameters=[CoteachingFilter], responses=ReplyOut(many=True))
    def get(self, request):
        member = api_membership(request)
        roles.require_teacher(member)
        filters = CoteachingFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        replies = selectors.replies_awaiting_feedback(member=member, **filters.resolved())
        return self.paginated_response(replies, ReplyOut)


class ReplyDetailApi(APIView):
    @extend_schema(responses=ReplyOut)
    def get(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        data = ReplyOut(reply).data
        return Response(peer_selectors.reply_as_seen(member=member, reply=reply, data=data))

    # 400: the reply is a sent attempt, not a draft (only drafts can be deleted).
    @extend_schema(responses={204: None, 400: ErrorSerializer})
    def delete(self, request, public_id):
        """Delete a draft: one of the student's replies whose recording failed."""
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        services.reply_delete(member=member, reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReplyReviewIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Reply.Status.REVIEWED, Reply.Status.TRY_AGAIN])


class ReplyReviewApi(APIView):
    @extend_schema(request=ReplyReviewIn, responses=ReplyOut)
    def post(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        data = ReplyReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.reply_review(
            member=member, reply=reply, status=data.validated_data["status"]
        )
        return Response(ReplyOut(reply).data)


class SyncOffsetIn(serializers.Serializer):
    offset_ms = serializers.IntegerField(min_value=-600_000, max_value=600_000)


class ReplySyncOffsetApi(APIView):
    @extend_schema(request=SyncOffsetIn, responses=ReplyOut)
    def post(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        data = SyncOffsetIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.reply_set_sync_offset(
            member=member, reply=reply, offset_ms=data.validated_data["offset_ms"]
        )
        return Response(ReplyOut(reply).data)


class ReplySeenApi(APIView):
    """The student opened the reply's compare page: its feedback is no longer new (sent by the
    page's script; the page itself only reads). Others' calls change nothing."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        services.reply_mark_seen(member=member, reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Comments -----------------------------------------------------------------------------


class CommentIn(serializers.Serializer):
    # Blank is the service's to refuse, with a sentence ("Write a comment first.").
    body = serializers.CharField(max_length=services.MAX_COMMENT_LENGTH, allow_blank=True)
    at_ms = serializers.IntegerField(min_value=0, max_value=2**31 - 1)  # the column's range
    side = serializers.ChoiceField(choices=Comment.Side.choices, default=Comment.Side.REPLY)
    parent = serializers.UUIDField(required=False, allow_null=True)
    # Shapes drawn on the paused frame (learning.drawings.shapes checks each; teachers only).
    drawing = serializers.JSONField(required=False, default=list)
    # The feedback library's comments it was made from (each one's use is counted).
    saved_comments = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=10
    )
    # A recording uploaded with purpose "comment" (teachers; learning.media_comments).
    media = serializers.UUIDField(required=False, allow_null=True)


class CommentListApi(APIView):
    @extend_schema(responses=CommentThreadOut(many=True))
    def get(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        threads = peer_selectors.comments_visible_to(member=member, reply=reply)
        return Response(CommentThreadOut(threads, many=True).data)

    @extend_schema(request=CommentIn, responses={201: CommentOut})
    def post(self, request, public_id):
        member = api_membership(request)
        reply = selectors.reply_get(member=member, public_id=public_id)
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data.get("parent"):
            parent = get_object_or_404(
                Comment, public_id=data.validated_data["parent"], reply=reply
            )
            if peer_selectors.hidden_from(member=member, comment=parent):
                raise NotFound("This comment does not exist.", code="not_found")

        media = None
        if data.validated_data.get("media"):
            media = MediaFile.objects.filter(public_id=data.validated_data["media"]).first()
            if media is None:
                raise NotFound("That recording does not exist.", code="media_not_found")
        comment = services.comment_create(
            member=member,
            reply=reply,
            body=data.validated_data["body"],
            at_ms=data.validated_data["at_ms"],
            side=data.validated_data["side"],
            parent=parent,
            drawing=data.validated_data["drawing"],
            saved_comments=data.validated_data["saved_comments"],
            media=media,
        )
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)


class CommentUpdateIn(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_COMMENT_LENGTH, allow_blank=True)


def _comment_for(request, public_id) -> Comment:
    member = api_membership(request)
    comment = (
        Comment.objects.select_related("author", "reply", "media")
        .filter(public_id=public_id)
        .first()
    )
    if comment is None:
        raise NotFound("This comment does not exist.", code="not_found")
    # Visible only if its reply is visible to this member, and not hidden from them.
    selectors.reply_get(member=member, public_id=comment.reply.public_id)
    if peer_selectors.hidden_from(member=member, comment=comment):
        raise NotFound("This comment does not exist.", code="not_found")
    return comment


class CommentDetailApi(APIView):
    @extend_schema(request=CommentUpdateIn, responses=CommentOut)
    def patch(self, request, public_id):
        comment = _comment_for(request, public_id)
        data = CommentUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_update(
            member=api_membership(request), comment=comment, body=data.validated_data["body"]
        )
        return Response(CommentOut(comment).data)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        services.comment_delete(
            member=api_membership(request), comment=_comment_for(request, public_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
