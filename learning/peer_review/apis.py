"""Peer review's API on a tenant's host (`/api/v1/`): a student's reviews to write, and a
teacher hiding a peer comment from students. Members only (the API's default permission)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.errors import NotFound
from learning.models import Comment
from learning.peer_review import selectors, services
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership


class ClassmateOut(serializers.Serializer):
    """The reviewed classmate; `public_id` is null and the name "Classmate" when the exercise's
    peer review is anonymous."""

    public_id = serializers.UUIDField(allow_null=True)
    display_name = serializers.CharField()


class PeerReviewOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    exercise = serializers.UUIDField(source="exercise.public_id")
    exercise_title = serializers.CharField(source="exercise.title")
    reply = serializers.UUIDField(source="reply.public_id")
    classmate = serializers.SerializerMethodField()
    anonymous = serializers.BooleanField(source="exercise.peer_review_anonymous")
    done = serializers.SerializerMethodField()
    comment_count = serializers.IntegerField(source="my_comment_count")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ClassmateOut)
    def get_classmate(self, review) -> dict:
        if review.exercise.peer_review_anonymous:
            return {"public_id": None, "display_name": selectors.CLASSMATE}
        return {
            "public_id": str(review.reviewee.public_id),
            "display_name": review.reviewee.display_name,
        }

    def get_done(self, review) -> bool:
        return review.completed_at is not None


class PeerReviewListApi(PaginatedListMixin, APIView):
    """The classmates' replies the calling student reviews (teachers: none of their own)."""

    @extend_schema(responses=PeerReviewOut(many=True))
    def get(self, request):
        member = api_membership(request)
        return self.paginated_response(
            selectors.reviews_for_student(student=member.user), PeerReviewOut
        )


class PeerCommentHideIn(serializers.Serializer):
    hidden = serializers.BooleanField()


class PeerCommentHideOut(serializers.Serializer):
    comment = serializers.UUIDField(source="comment.public_id")
    hidden = serializers.SerializerMethodField()
    hidden_at = serializers.DateTimeField(allow_null=True)

    def get_hidden(self, peer) -> bool:
        return peer.hidden_at is not None


class PeerCommentHideApi(APIView):
    """A teacher hides a peer comment from students, or shows it again."""

    @extend_schema(request=PeerCommentHideIn, responses=PeerCommentHideOut)
    def post(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        data = PeerCommentHideIn(data=request.data)
        data.is_valid(raise_exception=True)
        comment = Comment.objects.filter(public_id=public_id).first()
        if comment is None:
            raise NotFound("This comment does not exist.", code="not_found")
        peer = services.peer_comment_hide(
            member=member, comment=comment, hidden=data.validated_data["hidden"]
        )
        return Response(PeerCommentHideOut(peer).data)
