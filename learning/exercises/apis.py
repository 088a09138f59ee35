"""The exercises API on a tenant's host (`/api/v1/`): exercises and classes, and the output
shapes the replies API shares (learning.replies.apis).

One view per operation with its own input and output serializers; views parse, call one
service or selector, and render. Members only (the API's default permission); the services
decide what each role may do. Media playback URLs come from the media API.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.courses import gates
from learning.errors import NotFound
from learning.exercises import selectors, services
from learning.media_comments.apis import CommentMediaOut
from learning.models import Classroom, Comment, Exercise, MediaFile, Reply
from learning.peer_review import services as peer_review_services
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership

# --- Output shapes ------------------------------------------------------------------------


FORMER_MEMBER = "Former member"


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
    peer_review_count = serializers.IntegerField()
    peer_review_anonymous = serializers.BooleanField()
    demo = MediaOut(allow_null=True)
    created_by = UserOut()
    created_at = serializers.DateTimeField()


class ClassroomOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    ends_on = serializers.DateField(allow_null=True)
    student_count = serializers.IntegerField(required=False)


class ReplyStudentOut(UserOut):
    """The reply's student; to a classmate reviewing it anonymously (learning.peer_review),
    `public_id` is null and the name "Classmate"."""

    public_id = serializers.UUIDField(allow_null=True)


class ReplyOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    exercise = serializers.UUIDField(source="exercise.public_id")
    exercise_title = serializers.CharField(source="exercise.title")
    student = ReplyStudentOut()
    attempt = serializers.IntegerField()
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=Reply.Status.choices)
    sync_offset_ms = serializers.IntegerField()
    media = MediaOut()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    assigned_to = UserOut(allow_null=True)  # co-teachers: the reviewer it is assigned to


class AuthorOut(serializers.Serializer):
    """A comment's author; `public_id` is null, and the name "Former member", once the author
    was deleted and the school keeps their comments anonymised (learning.deletion)."""

    public_id = serializers.UUIDField(allow_null=True)
    display_name = serializers.CharField()

    def to_representation(self, instance):
        author = instance.author  # the comment itself (source="*"): DRF skips None fields
        if author is None:
            return {"public_id": None, "display_name": FORMER_MEMBER}
        # A name peer review hides from this viewer ("Classmate 2"; learning.peer_review).
        if alias := getattr(instance, "author_alias", None):
            return {"public_id": None, "display_name": alias}
        return super().to_representation(author)


class CommentOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    author = AuthorOut(source="*")
    side = serializers.ChoiceField(choices=Comment.Side.choices)
    at_ms = serializers.IntegerField()
    body = serializers.CharField()  # plain text: clients must render it as text, never HTML
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    drawing = serializers.JSONField()  # shapes over the picture (learning.drawings.shapes)
    media = CommentMediaOut(allow_null=True)  # a teacher's voice or video note
    # Written as a peer review, and hidden from students by a teacher (teachers only see
    # hidden ones); set by learning.peer_review.selectors.comments_visible_to.
    peer = serializers.BooleanField(source="is_peer", default=False)
    hidden = serializers.BooleanField(source="is_hidden", default=False)


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
    # Peer review (learning.peer_review): classmates' replies each student reviews, 0 = off.
    peer_review_count = serializers.IntegerField(required=False, min_value=0, max_value=10)
    peer_review_anonymous = serializers.BooleanField(required=False)


def _peer_review_save(member, exercise: Exercise, data: dict) -> Exercise:
    if "peer_review_count" not in data and "peer_review_anonymous" not in data:
        return exercise
    return peer_review_services.peer_review_configure(
        member=member,
        exercise=exercise,
        count=data.get("peer_review_count", exercise.peer_review_count),
        anonymous=data.get("peer_review_anonymous", exercise.peer_review_anonymous),
    )


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
        exercises = selectors.exercises_visible_to(member=api_membership(request))
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
        member = api_membership(request)
        with transaction.atomic():
            exercise = services.exercise_save(
                member=member, **_exercise_arguments(data.validated_data)
            )
            exercise = _peer_review_save(member, exercise, data.validated_data)
        return Response(ExerciseOut(exercise).data, status=status.HTTP_201_CREATED)


class ExerciseDetailApi(APIView):
    @extend_schema(responses=ExerciseOut)
    def get(self, request, public_id):
        member = api_membership(request)
        exercise = selectors.exercise_get(member=member, public_id=public_id)
        gates.require_open(member=member, exercise=exercise)  # 403 `exercise_locked`
        return Response(ExerciseOut(exercise).data)

    @extend_schema(request=ExerciseIn, responses=ExerciseOut)
    def put(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        exercise = selectors.exercise_get(member=member, public_id=public_id)
        data = ExerciseIn(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            exercise = services.exercise_save(
                member=member, exercise=exercise, **_exercise_arguments(data.validated_data)
            )
            exercise = _peer_review_save(member, exercise, data.validated_data)
        return Response(ExerciseOut(exercise).data)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        exercise = selectors.exercise_get(member=member, public_id=public_id)
        services.exercise_delete(member=member, exercise=exercise)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExercisePublishApi(APIView):
    @extend_schema(request=None, responses=ExerciseOut)
    def post(self, request, public_id):
        member = api_membership(request)
        roles.require_teacher(member)
        exercise = selectors.exercise_get(member=member, public_id=public_id)
        return Response(
            ExerciseOut(services.exercise_publish(member=member, exercise=exercise)).data
        )


# --- Classes ------------------------------------------------------------------------------


class ClassroomIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    students = serializers.ListField(child=serializers.UUIDField(), required=False)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)


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
            member=api_membership(request),
            name=data.validated_data["name"],
            student_ids=User.objects.filter(
                public_id__in=data.validated_data.get("students", [])
            ).values_list("pk", flat=True),
            ends_on=data.validated_data["ends_on"],
        )
        return Response(ClassroomOut(classroom).data, status=status.HTTP_201_CREATED)
