"""The courses API on a tenant's host (`/api/v1/`): courses, their units and items, assignment,
duplication, the template library and copies to another school.

    GET  POST  courses/                    list (teachers: ?templates=true for the library)
    GET DELETE courses/<id>/               units and items; a student's with done/open/locked
    POST       courses/<id>/units/         {title}
    POST       courses/<id>/items/         {unit, exercise, release_at, prerequisite, requires}
    PUT        courses/<id>/items/<item>/  {release_at, prerequisite, requires}
    PUT        courses/<id>/assignment/    {assign_to_all, classes, students}
    POST       courses/<id>/duplicate/     {title, shift_days}
    PUT        courses/<id>/template/      {is_template}
    POST       courses/<id>/use/           {title}: a new course from a template
    GET        exercise-templates/         the library's exercises
    PUT        exercises/<id>/template/    {is_template}
    POST       exercises/<id>/use/         a new draft from an exercise template
    POST       copies/                     {target_tenant, course | exercise}: 202, queued
    GET        copies/<id>/                where a copy stands

Members only (the API's default permission); everything but reading is for teachers, and the
services decide. Errors have the project's shape `{"code", "message"}`.
"""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from learning import roles
from learning.courses import selectors, services
from learning.errors import NotFound
from learning.exercises import selectors as exercise_selectors
from learning.exercises.apis import ExerciseOut, UserOut
from learning.models import Classroom, Course, CourseCopy, CourseItem, CourseUnit, Exercise
from tenants.pagination import PaginatedListMixin
from tenants.permissions import api_membership

# --- Shapes ---------------------------------------------------------------------------------


class CourseOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    is_template = serializers.BooleanField()
    assign_to_all = serializers.BooleanField()
    unit_count = serializers.IntegerField()
    item_count = serializers.IntegerField()
    created_by = UserOut()
    created_at = serializers.DateTimeField()


class LockOut(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["not_released", "prerequisite"])
    message = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)


class ItemOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    exercise = serializers.UUIDField()
    exercise_title = serializers.CharField()
    exercise_status = serializers.ChoiceField(choices=Exercise.Status.choices)
    release_at = serializers.DateTimeField(allow_null=True)
    prerequisite = serializers.UUIDField(allow_null=True)
    requires = serializers.ChoiceField(choices=CourseItem.Requires.choices)
    state = serializers.ChoiceField(choices=["done", "open", "locked"], allow_null=True)
    lock = LockOut(allow_null=True)


class UnitOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    title = serializers.CharField()
    items = ItemOut(many=True)


class CourseDetailOut(CourseOut):
    units = UnitOut(many=True)
    done = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField()


def _item(item: CourseItem, state=None, lock=None) -> dict:
    return {
        "public_id": item.public_id,
        "exercise": item.exercise.public_id,
        "exercise_title": item.exercise.title,
        "exercise_status": item.exercise.status,
        "release_at": item.release_at,
        "prerequisite": item.prerequisite.public_id if item.prerequisite else None,
        "requires": item.requires,
        "state": state,
        "lock": lock
        and {"reason": lock.reason, "message": lock.message, "opens_at": lock.opens_at},
    }


def _course_detail(member, course: Course) -> dict:
    base = CourseOut(selectors.course_with_counts(course=course)).data
    if roles.is_teacher(member):
        units = {
            u.pk: {"public_id": u.public_id, "title": u.title, "items": []}
            for u in course.units.order_by("position", "pk")
        }
        items = selectors.course_items(course=course)
        for item in items:
            units[item.unit_id]["items"].append(_item(item))
        return base | {"units": list(units.values()), "done": None, "total": len(items)}
    path = selectors.course_path(member=member, course=course)
    units = [
        {
            "public_id": u.unit.public_id,
            "title": u.unit.title,
            "items": [_item(p.item, p.state, p.lock) for p in u.items],
        }
        for u in path.units
    ]
    return base | {"units": units, "done": path.done, "total": path.total}


def _course(request, public_id) -> Course:
    return selectors.course_get(member=api_membership(request), public_id=public_id)


def _teacher_course(request, public_id) -> Course:
    member = api_membership(request)
    roles.require_teacher(member)
    return selectors.course_get(member=member, public_id=public_id)


# --- Courses --------------------------------------------------------------------------------


class CourseIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CourseFilter(serializers.Serializer):
    templates = serializers.BooleanField(required=False, default=False)


class CourseListApi(PaginatedListMixin, APIView):
    @extend_schema(parameters=[CourseFilter], responses=CourseOut(many=True))
    def get(self, request):
        filters = CourseFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        member = api_membership(request)
        if filters.validated_data["templates"]:
            roles.require_teacher(member)
            courses = selectors.courses_for_teacher(templates=True)
        else:
            courses = selectors.courses_visible_to(member=member)
        return self.paginated_response(courses, CourseOut)

    @extend_schema(request=CourseIn, responses={201: CourseDetailOut})
    def post(self, request):
        data = CourseIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = api_membership(request)
        course = services.course_save(member=member, **data.validated_data)
        return Response(_course_detail(member, course), status=status.HTTP_201_CREATED)


class CourseDetailApi(APIView):
    @extend_schema(responses=CourseDetailOut)
    def get(self, request, public_id):
        member = api_membership(request)
        return Response(_course_detail(member, _course(request, public_id)))

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        course = _teacher_course(request, public_id)
        services.course_delete(member=api_membership(request), course=course)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnitIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)


class UnitCreateApi(APIView):
    @extend_schema(request=UnitIn, responses={201: UnitOut})
    def post(self, request, public_id):
        course = _teacher_course(request, public_id)
        data = UnitIn(data=request.data)
        data.is_valid(raise_exception=True)
        unit = services.unit_add(
            member=api_membership(request), course=course, title=data.validated_data["title"]
        )
        return Response(
            {"public_id": unit.public_id, "title": unit.title, "items": []},
            status=status.HTTP_201_CREATED,
        )


class ItemSettingsIn(serializers.Serializer):
    release_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    prerequisite = serializers.UUIDField(required=False, allow_null=True, default=None)
    requires = serializers.ChoiceField(
        choices=CourseItem.Requires.choices, required=False, default=CourseItem.Requires.REPLY
    )


class ItemIn(ItemSettingsIn):
    unit = serializers.UUIDField()
    exercise = serializers.UUIDField()


def _prerequisite(course: Course, public_id) -> CourseItem | None:
    if public_id is None:
        return None
    item = (
        CourseItem.objects.select_related("unit")
        .filter(public_id=public_id, unit__course=course)
        .first()
    )
    if item is None:
        raise NotFound("That prerequisite is not an item of this course.", code="not_found")
    return item


def _item_out(item: CourseItem) -> dict:
    item = CourseItem.objects.select_related("exercise", "prerequisite").get(pk=item.pk)
    return _item(item)


class ItemCreateApi(APIView):
    @extend_schema(request=ItemIn, responses={201: ItemOut})
    def post(self, request, public_id):
        member = api_membership(request)
        course = _teacher_course(request, public_id)
        data = ItemIn(data=request.data)
        data.is_valid(raise_exception=True)
        unit = CourseUnit.objects.filter(
            public_id=data.validated_data["unit"], course=course
        ).first()
        if unit is None:
            raise NotFound("That unit is not part of this course.", code="not_found")
        exercise = exercise_selectors.exercise_get(
            member=member, public_id=data.validated_data["exercise"]
        )
        item = services.item_add(
            member=member,
            unit=unit,
            exercise=exercise,
            release_at=data.validated_data["release_at"],
            prerequisite=_prerequisite(course, data.validated_data["prerequisite"]),
            requires=data.validated_data["requires"],
        )
        return Response(_item_out(item), status=status.HTTP_201_CREATED)


class ItemDetailApi(APIView):
    @extend_schema(request=ItemSettingsIn, responses=ItemOut)
    def put(self, request, public_id, item_id):
        course = _teacher_course(request, public_id)
        item = (
            CourseItem.objects.select_related("unit__course")
            .filter(public_id=item_id, unit__course=course)
            .first()
        )
        if item is None:
            raise NotFound("That item is not part of this course.", code="not_found")
        data = ItemSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.item_update(
            member=api_membership(request),
            item=item,
            release_at=data.validated_data["release_at"],
            prerequisite=_prerequisite(course, data.validated_data["prerequisite"]),
            requires=data.validated_data["requires"],
        )
        return Response(_item_out(item))


class AssignmentIn(serializers.Serializer):
    assign_to_all = serializers.BooleanField()
    classes = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    students = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)


class CourseAssignmentApi(APIView):
    @extend_schema(request=AssignmentIn, responses=CourseDetailOut)
    def put(self, request, public_id):
        from tenants.models import User

        member = api_membership(request)
        course = _teacher_course(request, public_id)
        data = AssignmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.course_assign(
            member=member,
            course=course,
            assign_to_all=data.validated_data["assign_to_all"],
            class_ids=Classroom.objects.filter(
                public_id__in=data.validated_data["classes"]
            ).values_list("pk", flat=True),
            student_ids=User.objects.filter(
                public_id__in=data.validated_data["students"]
            ).values_list("pk", flat=True),
        )
        return Response(_course_detail(member, course))


class DuplicateIn(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    shift_days = serializers.IntegerField(
        required=False,
        default=0,
        min_value=-services.MAX_SHIFT_DAYS,
        max_value=services.MAX_SHIFT_DAYS,
    )


class CourseDuplicateApi(APIView):
    @extend_schema(request=DuplicateIn, responses={201: CourseDetailOut})
    def post(self, request, public_id):
        member = api_membership(request)
        course = _teacher_course(request, public_id)
        data = DuplicateIn(data=request.data)
        data.is_valid(raise_exception=True)
        copy = services.course_duplicate(
            member=member,
            course=course,
            title=data.validated_data["title"],
            shift=timedelta(days=data.validated_data["shift_days"]),
        )
        return Response(_course_detail(member, copy), status=status.HTTP_201_CREATED)


class TemplateIn(serializers.Serializer):
    is_template = serializers.BooleanField()


class CourseTemplateApi(APIView):
    @extend_schema(request=TemplateIn, responses=CourseDetailOut)
    def put(self, request, public_id):
        member = api_membership(request)
        course = _teacher_course(request, public_id)
        data = TemplateIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.course_template_set(
            member=member, course=course, is_template=data.validated_data["is_template"]
        )
        return Response(_course_detail(member, course))


class UseIn(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CourseUseApi(APIView):
    @extend_schema(request=UseIn, responses={201: CourseDetailOut})
    def post(self, request, public_id):
        member = api_membership(request)
        course = _teacher_course(request, public_id)
        data = UseIn(data=request.data)
        data.is_valid(raise_exception=True)
        copy = services.course_template_use(
            member=member, course=course, title=data.validated_data["title"]
        )
        return Response(_course_detail(member, copy), status=status.HTTP_201_CREATED)


# --- Exercise templates ---------------------------------------------------------------------


class ExerciseTemplateListApi(PaginatedListMixin, APIView):
    @extend_schema(responses=ExerciseOut(many=True))
    def get(self, request):
        roles.require_teacher(api_membership(request))
        return self.paginated_response(
            selectors.exercise_templates().select_related("demo"), ExerciseOut
        )


def _teacher_exercise(request, public_id) -> Exercise:
    member = api_membership(request)
    roles.require_teacher(member)
    return exercise_selectors.exercise_get(member=member, public_id=public_id)


class ExerciseTemplateApi(APIView):
    @extend_schema(request=TemplateIn, responses=ExerciseOut)
    def put(self, request, public_id):
        exercise = _teacher_exercise(request, public_id)
        data = TemplateIn(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = services.exercise_template_set(
            member=api_membership(request),
            exercise=exercise,
            is_template=data.validated_data["is_template"],
        )
        return Response(ExerciseOut(exercise).data)


class ExerciseUseApi(APIView):
    @extend_schema(request=None, responses={201: ExerciseOut})
    def post(self, request, public_id):
        exercise = _teacher_exercise(request, public_id)
        copy = services.exercise_template_use(member=api_membership(request), exercise=exercise)
        return Response(ExerciseOut(copy).data, status=status.HTTP_201_CREATED)


# --- Copies to another school ---------------------------------------------------------------


class CopyIn(serializers.Serializer):
    target_tenant = serializers.UUIDField()
    course = serializers.UUIDField(required=False, allow_null=True, default=None)
    exercise = serializers.UUIDField(required=False, allow_null=True, default=None)


class CopyOut(serializers.Serializer):
    public_id = serializers.UUIDField()
    target_tenant = serializers.UUIDField(source="target_tenant_id")
    state = serializers.ChoiceField(choices=CourseCopy.State.choices)
    error_message = serializers.CharField()
    result = serializers.UUIDField(source="result_public_id", allow_null=True)
    media_copied = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class CopyCreateApi(APIView):
    @extend_schema(request=CopyIn, responses={202: CopyOut})
    def post(self, request):
        member = api_membership(request)
        roles.require_teacher(member)
        data = CopyIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        course = exercise = None
        if values["course"] is not None:
            course = selectors.course_get(member=member, public_id=values["course"])
        if values["exercise"] is not None:
            exercise = exercise_selectors.exercise_get(member=member, public_id=values["exercise"])
        copy = services.copy_to_tenant_request(
            member=member,
            target_tenant_id=values["target_tenant"],
            course=course,
            exercise=exercise,
        )
        return Response(CopyOut(copy).data, status=status.HTTP_202_ACCEPTED)


class CopyDetailApi(APIView):
    @extend_schema(responses=CopyOut)
    def get(self, request, public_id):
        member = api_membership(request)
        copy = CourseCopy.objects.filter(public_id=public_id, requested_by=member.user).first()
        if copy is None:
            raise NotFound("This copy does not exist.", code="not_found")
        return Response(CopyOut(copy).data)
