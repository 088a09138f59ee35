"""The rubrics and grades API on a tenant's host (`/api/v1/`): rubrics (the library and the
exercises' own), an exercise's rubric for its students, a reply's scores, and a class's
gradebook. One view per operation; members only (the API's default permission); teachers
write, a student reads the rubric of an exercise assigned to them and their own scores."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.exercises import selectors as exercise_selectors
from learning.exercises.apis import UserOut
from learning.models import Rubric
from learning.replies import selectors as reply_selectors
from learning.rubrics import selectors, services
from tenants.api_errors import ErrorSerializer
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership

# --- Shapes -------------------------------------------------------------------------------


class LevelOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    points = serializers.DecimalField(max_digits=7, decimal_places=2, coerce_to_string=False)


class CriterionOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    levels = LevelOut(many=True, source="levels.all")


class RubricOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    is_template = serializers.BooleanField(help_text="In the school's or studio's library.")
    exercise = serializers.UUIDField(source="exercise.public_id", allow_null=True, default=None)
    maximum = serializers.SerializerMethodField()
    criteria = CriterionOut(many=True, source="criteria.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_maximum(self, rubric) -> float:
        return float(
            sum(max((lv.points for lv in c.levels.all()), default=0) for c in rubric.criteria.all())
        )


class LevelIn(serializers.Serializer):
    public_id = serializers.UUIDField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    points = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=0, max_value=services.MAX_POINTS
    )


class CriterionIn(serializers.Serializer):
    public_id = serializers.UUIDField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    levels = LevelIn(many=True, max_length=services.MAX_LEVELS)


class RubricIn(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )
    criteria = CriterionIn(many=True, max_length=services.MAX_CRITERIA)


class RubricCreateIn(RubricIn):
    exercise = serializers.UUIDField(
        required=False, allow_null=True, help_text="Attach to this exercise; none: the library."
    )


def _criteria(data) -> list[services.CriterionData]:
    return [
        services.CriterionData(
            title=c["title"],
            description=c.get("description", ""),
            public_id=c.get("public_id"),
            levels=[
                services.LevelData(
                    title=lv["title"],
                    description=lv.get("description", ""),
                    points=lv["points"],
                    public_id=lv.get("public_id"),
                )
                for lv in c["levels"]
            ],
        )
        for c in data["criteria"]
    ]


# --- Rubrics ------------------------------------------------------------------------------


class RubricFilter(serializers.Serializer):
    library = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only the library (true) or only the exercises' rubrics (false).",
    )


class RubricListApi(PaginatedListMixin, APIView):
    """Teachers: the tenant's rubrics, library first."""

    @extend_schema(parameters=[RubricFilter], responses=RubricOut(many=True))
    def get(self, request):
        filters = RubricFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rubrics = selectors.rubrics_for_teacher(
            member=api_membership(request), library=filters.validated_data.get("library")
        )
        return self.paginated_response(rubrics, RubricOut)

    @extend_schema(request=RubricCreateIn, responses={201: RubricOut, 400: ErrorSerializer})
    def post(self, request):
        member = api_membership(request)
        roles.require_teacher(member)
        data = RubricCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = None
        if data.validated_data.get("exercise"):
            exercise = exercise_selectors.exercise_get(
                member=member, public_id=data.validated_data["exercise"]
            )
        rubric = services.rubric_create(
            member=member,
            title=data.validated_data["title"],
            description=data.validated_data["description"],
            criteria=_criteria(data.validated_data),
            exercise=exercise,
        )
        rubric = selectors.rubric_get(member=member, public_id=rubric.public_id)
        return Response(RubricOut(rubric).data, status=status.HTTP_201_CREATED)


class RubricDetailApi(APIView):
    @extend_schema(responses=RubricOut)
    def get(self, request, public_id):
        rubric = selectors.rubric_get(member=api_membership(request), public_id=public_id)
        return Response(RubricOut(rubric).data)

    @extend_schema(request=RubricIn, responses={200: RubricOut, 400: ErrorSerializer})
    def put(self, request, public_id):
        """Replace the rubric's content: criteria and levels sent with their public_id are
        kept, the others are new, the missing ones go. A rubric with scores takes new wording
        only (400 `rubric_in_use`)."""
        member = api_membership(request)
        rubric = selectors.rubric_get(member=member, public_id=public_id)
        data = RubricIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.rubric_update(
            member=member,
            rubric=rubric,
            title=data.validated_data["title"],
            description=data.validated_data["description"],
            criteria=_criteria(data.validated_data),
        )
        return Response(RubricOut(selectors.rubric_get(member=member, public_id=public_id)).data)

    @extend_schema(responses={204: None, 400: ErrorSerializer})
    def delete(self, request, public_id):
        member = api_membership(request)
        rubric = selectors.rubric_get(member=member, public_id=public_id)
        services.rubric_delete(member=member, rubric=rubric)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RubricCopyIn(serializers.Serializer):
    exercise = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Attach the copy to this exercise (replacing its unscored rubric); none: "
        "copy into the library.",
    )


class RubricCopyApi(APIView):
    @extend_schema(request=RubricCopyIn, responses={201: RubricOut, 400: ErrorSerializer})
    def post(self, request, public_id):
        member = api_membership(request)
        rubric = selectors.rubric_get(member=member, public_id=public_id)
        data = RubricCopyIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = None
        if data.validated_data.get("exercise"):
            exercise = exercise_selectors.exercise_get(
                member=member, public_id=data.validated_data["exercise"]
            )
        copy = services.rubric_copy(member=member, rubric=rubric, exercise=exercise)
        copy = selectors.rubric_get(member=member, public_id=copy.public_id)
        return Response(RubricOut(copy).data, status=status.HTTP_201_CREATED)


class ExerciseRubricApi(APIView):
    """The exercise's rubric: its teachers, and the students it is assigned to (before they
    record). 404 when the exercise has none."""

    @extend_schema(responses=RubricOut)
    def get(self, request, public_id):
        rubric = selectors.exercise_rubric_get(
            member=api_membership(request), exercise_public_id=public_id
        )
        return Response(RubricOut(rubric).data)


# --- Scores -------------------------------------------------------------------------------


class ScoreOut(serializers.Serializer):
    criterion = serializers.UUIDField(source="criterion.public_id")
    criterion_title = serializers.CharField(source="criterion.title")
    level = serializers.UUIDField(source="level.public_id")
    level_title = serializers.CharField(source="level.title")
    points = serializers.DecimalField(
        source="level.points", max_digits=7, decimal_places=2, coerce_to_string=False
    )
    note = serializers.CharField()
    scored_by = UserOut(allow_null=True)
    updated_at = serializers.DateTimeField()


class ReplyScoresOut(serializers.Serializer):
    reply = serializers.UUIDField()
    rubric = serializers.UUIDField(allow_null=True)
    score_given = serializers.FloatField(allow_null=True)
    score_maximum = serializers.FloatField(allow_null=True)
    scores = ScoreOut(many=True)


class ScoreIn(serializers.Serializer):
    criterion = serializers.UUIDField()
    level = serializers.UUIDField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReplyScoresIn(serializers.Serializer):
    scores = ScoreIn(many=True, max_length=services.MAX_CRITERIA)


def _scores_body(reply) -> dict:
    rubric = Rubric.objects.filter(exercise_id=reply.exercise_id).values_list(
        "public_id", flat=True
    )
    return ReplyScoresOut(
        {
            "reply": reply.public_id,
            "rubric": next(iter(rubric), None),
            "score_given": reply.score_given,
            "score_maximum": reply.score_maximum,
            "scores": selectors.scores_for_reply(reply=reply),
        }
    ).data


class ReplyScoresApi(APIView):
    """A reply's rubric scores and grade: its student reads them, teachers read and write."""

    @extend_schema(responses=ReplyScoresOut)
    def get(self, request, public_id):
        reply = reply_selectors.reply_get(member=api_membership(request), public_id=public_id)
        return Response(_scores_body(reply))

    @extend_schema(request=ReplyScoresIn, responses={200: ReplyScoresOut, 400: ErrorSerializer})
    def put(self, request, public_id):
        """One level per criterion of the exercise's rubric (every criterion), each with an
        optional note. Marks the reply reviewed and sends the grade to the LMS."""
        member = api_membership(request)
        roles.require_teacher(member)
        reply = reply_selectors.reply_get(member=member, public_id=public_id)
        data = ReplyScoresIn(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.reply_score(
            member=member,
            reply=reply,
            scores=[services.ScoreData(**score) for score in data.validated_data["scores"]],
        )
        return Response(_scores_body(reply))


# --- The gradebook ------------------------------------------------------------------------


class GradebookExerciseOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()


class GradeOut(serializers.Serializer):
    exercise = serializers.UUIDField()
    reply = serializers.UUIDField(allow_null=True)
    attempt = serializers.IntegerField(allow_null=True)
    score_given = serializers.FloatField(allow_null=True)
    score_maximum = serializers.FloatField(allow_null=True)


class GradebookRowOut(serializers.Serializer):
    student = UserOut()
    grades = GradeOut(many=True)
    total_given = serializers.FloatField()
    total_maximum = serializers.FloatField()
    percent = serializers.FloatField(allow_null=True)


class GradebookOut(serializers.Serializer):
    classroom = serializers.UUIDField()
    counted_attempt = serializers.CharField()
    exercises = GradebookExerciseOut(many=True)
    rows = GradebookRowOut(many=True)


COUNTED_ATTEMPT = "latest_scored"


def gradebook_body(book) -> dict:
    rows = []
    for row in book.rows:
        grades = []
        for exercise, cell in zip(book.exercises, row.cells, strict=True):
            grades.append(
                {
                    "exercise": exercise.public_id,
                    "reply": cell.reply.public_id if cell.reply else None,
                    "attempt": cell.reply.attempt if cell.reply else None,
                    "score_given": cell.given,
                    "score_maximum": cell.maximum,
                }
            )
        rows.append(
            {
                "student": row.student,
                "grades": grades,
                "total_given": float(row.total_given),
                "total_maximum": float(row.total_maximum),
                "percent": float(row.percent) if row.percent is not None else None,
            }
        )
    return GradebookOut(
        {
            "classroom": book.classroom.public_id,
            "counted_attempt": COUNTED_ATTEMPT,
            "exercises": book.exercises,
            "rows": rows,
        }
    ).data


class GradebookApi(APIView):
    """Teachers: the class's students by its exercises, the grade of each student's latest
    scored attempt, and each student's total."""

    @extend_schema(responses=GradebookOut)
    def get(self, request, public_id):
        member = api_membership(request)
        classroom = selectors.classroom_get(member=member, public_id=public_id)
        return Response(gradebook_body(selectors.gradebook(member=member, classroom=classroom)))
