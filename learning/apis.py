"""The core-loop API on a tenant's host (`/api/v1/`): exercises, classes, replies, comments.

One view per operation with its own input and output serializers; views parse, call one
service or selector, and render. Members only (the API's default permission); the services
decide what each role may do. Media playback URLs come from the uploads API.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles, selectors, services
from learning.errors import NotFound
from learning.models import Classroom, Comment, Exercise, MediaFile, Reply
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership

# --- Output shapes ------------------------------------------------------------------------


class UserOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    display_name = serializers.CharField()


class MediaOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=MediaFile.State.choices)
    error_message = serializers.CharField()
    original_name = serializers.CharField()
    duration_s = serializers.FloatField(allow_null=True)
    has_video = serializers.BooleanField()
    has_audio = serializers.BooleanField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class ExerciseOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    instructions = serializers.CharField()
    instrument = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Exercise.Status.choices)
    due_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    assign_to_all = serializers.BooleanField()
    demo = MediaOut(allow_null=True)
    created_by = UserOut()
    created_at = serializers.DateTimeField()


class ClassroomOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    student_count = serializers.IntegerField(required=False)


class ReplyOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    exercise = serializers.UUIDField(source="exercise.public_id")
    exercise_title = serializers.CharField(source="exercise.title")
    student = UserOut()
    attempt = serializers.IntegerField()
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=Reply.Status.choices)
    sync_offset_ms = serializers.IntegerField()
    media = MediaOut()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class CommentOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    author = UserOut()
    side = serializers.ChoiceField(choices=Comment.Side.choices)
    at_ms = serializers.IntegerField()
    body = serializers.CharField()  # plain text: clients must render it as text, never HTML
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)


class CommentThreadOut(CommentOut):
    replies = CommentOut(many=True, source="children.all")


# --- Exercises ----------------------------------------------------------------------------


class ExerciseIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    instrument = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    demo = serializers.UUIDField(required=False, allow_null=True)
    assign_to_all = serializers.BooleanField(required=False, default=True)
    classes = serializers.ListField(child=serializers.UUIDField(), required=False)
    students = serializers.ListField(child=serializers.UUIDField(), required=False)


def _exercise_arguments(data: dict) -> dict:
    from tenants.models import User

    demo = None
    if data.get("demo"):
        demo = MediaFile.objects.filter(public_id=data["demo"]).first()
        if demo is None:
            raise NotFound("That recording does not exist.", code="media_not_found")
    return {
        "title": data["title"],
        "instructions": data.get("instructions", ""),
        "instrument": data.get("instrument", ""),
        "tags": data.get("tags", []),
        "due_at": data.get("due_at"),
        "demo": demo,
        "assign_to_all": data.get("assign_to_all", True),
        "class_ids": Classroom.objects.filter(public_id__in=data.get("classes", [])).values_list(
            "pk", flat=True
        ),
        "student_ids": User.objects.filter(public_id__in=data.get("students", [])).values_list(
            "pk", flat=True
        ),
    }


class ExerciseFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Exercise.Status.choices, required=False)
    instrument = serializers.CharField(max_length=60, required=False)
    tag = serializers.CharField(max_length=40, required=False)


class ExerciseListApi(PaginatedListMixin, APIView):
    @extend_schema(parameters=[ExerciseFilter], responses=ExerciseOut(many=True))
    def get(self, request):
        filters = ExerciseFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        exercises = selectors.exercises_visible_to(membership=api_membership(request))
        if status_filter := filters.validated_data.get("status"):
            exercises = exercises.filter(status=status_filter)
        if instrument := filters.validated_data.get("instrument"):
            exercises = exercises.filter(instrument__iexact=instrument)
        if tag := filters.validated_data.get("tag"):
            exercises = exercises.filter(tags__contains=[tag.lower()])
        return self.paginated_response(exercises, ExerciseOut)

    @extend_schema(request=ExerciseIn, responses={201: ExerciseOut})
    def post(self, request):
        data = ExerciseIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = services.exercise_save(
            actor=api_membership(request), **_exercise_arguments(data.validated_data)
        )
        return Response(ExerciseOut(exercise).data, status=status.HTTP_201_CREATED)


class ExerciseDetailApi(APIView):
    @extend_schema(responses=ExerciseOut)
    def get(self, request, public_id):
        exercise = selectors.exercise_get(membership=api_membership(request), public_id=public_id)
        return Response(ExerciseOut(exercise).data)

    @extend_schema(request=ExerciseIn, responses=ExerciseOut)
    def put(self, request, public_id):
        membership = api_membership(request)
        roles.require_teacher(membership)
        exercise = selectors.exercise_get(membership=membership, public_id=public_id)
        data = ExerciseIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = services.exercise_save(
            actor=membership, exercise=exercise, **_exercise_arguments(data.validated_data)
        )
        return Response(ExerciseOut(exercise).data)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        membership = api_membership(request)
        roles.require_teacher(membership)
        exercise = selectors.exercise_get(membership=membership, public_id=public_id)
        services.exercise_delete(actor=membership, exercise=exercise)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExercisePublishApi(APIView):
    @extend_schema(request=None, responses=ExerciseOut)
    def post(self, request, public_id):
        membership = api_membership(request)
        roles.require_teacher(membership)
        exercise = selectors.exercise_get(membership=membership, public_id=public_id)
        return Response(
            ExerciseOut(services.exercise_publish(actor=membership, exercise=exercise)).data
        )


# --- Classes ------------------------------------------------------------------------------


class ClassroomIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    students = serializers.ListField(child=serializers.UUIDField(), required=False)


class ClassroomListApi(PaginatedListMixin, APIView):
    @extend_schema(responses=ClassroomOut(many=True))
    def get(self, request):
        roles.require_teacher(api_membership(request))
        return self.paginated_response(selectors.classrooms(), ClassroomOut)

    @extend_schema(request=ClassroomIn, responses={201: ClassroomOut})
    def post(self, request):
        from tenants.models import User

        data = ClassroomIn(data=request.data)
        data.is_valid(raise_exception=True)
        classroom = services.classroom_save(
            actor=api_membership(request),
            name=data.validated_data["name"],
            student_ids=User.objects.filter(
                public_id__in=data.validated_data.get("students", [])
            ).values_list("pk", flat=True),
        )
        return Response(ClassroomOut(classroom).data, status=status.HTTP_201_CREATED)


# --- Replies ------------------------------------------------------------------------------


class ReplyIn(serializers.Serializer):
    exercise = serializers.UUIDField()
    media = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReplyFilter(serializers.Serializer):
    exercise = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Reply.Status.choices, required=False)


class ReplyListApi(PaginatedListMixin, APIView):
    @extend_schema(parameters=[ReplyFilter], responses=ReplyOut(many=True))
    def get(self, request):
        filters = ReplyFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        replies = selectors.replies_visible_to(membership=api_membership(request))
        if exercise := filters.validated_data.get("exercise"):
            replies = replies.filter(exercise__public_id=exercise)
        if reply_status := filters.validated_data.get("status"):
            replies = replies.filter(status=reply_status)
        return self.paginated_response(replies.order_by("-created_at"), ReplyOut)

    @extend_schema(request=ReplyIn, responses={201: ReplyOut})
    def post(self, request):
        membership = api_membership(request)
        data = ReplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = selectors.exercise_get(
            membership=membership, public_id=data.validated_data["exercise"]
        )
        media = MediaFile.objects.filter(public_id=data.validated_data["media"]).first()
        if media is None:
            raise NotFound("That recording does not exist.", code="media_not_found")
        reply = services.reply_create(
            actor=membership, exercise=exercise, media=media, note=data.validated_data["note"]
        )
        return Response(ReplyOut(reply).data, status=status.HTTP_201_CREATED)


class InboxApi(PaginatedListMixin, APIView):
    """Replies awaiting feedback, oldest first (teachers)."""

    @extend_schema(responses=ReplyOut(many=True))
    def get(self, request):
        roles.require_teacher(api_membership(request))
        return self.paginated_response(selectors.replies_awaiting_feedback(), ReplyOut)


class ReplyDetailApi(APIView):
    @extend_schema(responses=ReplyOut)
    def get(self, request, public_id):
        reply = selectors.reply_get(membership=api_membership(request), public_id=public_id)
        return Response(ReplyOut(reply).data)


class ReplyReviewIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Reply.Status.REVIEWED, Reply.Status.TRY_AGAIN])


class ReplyReviewApi(APIView):
    @extend_schema(request=ReplyReviewIn, responses=ReplyOut)
    def post(self, request, public_id):
        membership = api_membership(request)
        reply = selectors.reply_get(membership=membership, public_id=public_id)
        data = ReplyReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.reply_review(
            actor=membership, reply=reply, status=data.validated_data["status"]
        )
        return Response(ReplyOut(reply).data)


class SyncOffsetIn(serializers.Serializer):
    offset_ms = serializers.IntegerField(min_value=-600_000, max_value=600_000)


class ReplySyncOffsetApi(APIView):
    @extend_schema(request=SyncOffsetIn, responses=ReplyOut)
    def post(self, request, public_id):
        membership = api_membership(request)
        reply = selectors.reply_get(membership=membership, public_id=public_id)
        data = SyncOffsetIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.reply_set_sync_offset(
            actor=membership, reply=reply, offset_ms=data.validated_data["offset_ms"]
        )
        return Response(ReplyOut(reply).data)


# --- Comments -----------------------------------------------------------------------------


class CommentIn(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_COMMENT_LENGTH)
    at_ms = serializers.IntegerField(min_value=0, max_value=2**31 - 1)  # the column's range
    side = serializers.ChoiceField(choices=Comment.Side.choices, default=Comment.Side.REPLY)
    parent = serializers.UUIDField(required=False, allow_null=True)


class CommentListApi(APIView):
    @extend_schema(responses=CommentThreadOut(many=True))
    def get(self, request, public_id):
        reply = selectors.reply_get(membership=api_membership(request), public_id=public_id)
        return Response(CommentThreadOut(selectors.comments_for_reply(reply=reply), many=True).data)

    @extend_schema(request=CommentIn, responses={201: CommentOut})
    def post(self, request, public_id):
        membership = api_membership(request)
        reply = selectors.reply_get(membership=membership, public_id=public_id)
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data.get("parent"):
            parent = get_object_or_404(
                Comment, public_id=data.validated_data["parent"], reply=reply
            )
        comment = services.comment_create(
            actor=membership,
            reply=reply,
            body=data.validated_data["body"],
            at_ms=data.validated_data["at_ms"],
            side=data.validated_data["side"],
            parent=parent,
        )
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)


class CommentUpdateIn(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_COMMENT_LENGTH)


def _comment_for(request, public_id) -> Comment:
    membership = api_membership(request)
    comment = Comment.objects.select_related("author", "reply").filter(public_id=public_id).first()
    if comment is None:
        raise NotFound("This comment does not exist.", code="not_found")
    # Visible only if its reply is visible to this member.
    selectors.reply_get(membership=membership, public_id=comment.reply.public_id)
    return comment


class CommentDetailApi(APIView):
    @extend_schema(request=CommentUpdateIn, responses=CommentOut)
    def patch(self, request, public_id):
        comment = _comment_for(request, public_id)
        data = CommentUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_update(
            actor=api_membership(request), comment=comment, body=data.validated_data["body"]
        )
        return Response(CommentOut(comment).data)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        services.comment_delete(
            actor=api_membership(request), comment=_comment_for(request, public_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
