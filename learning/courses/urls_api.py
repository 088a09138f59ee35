"""The courses API's routes, included under /api/v1/ (learning.urls_api)."""

from django.urls import path

from learning.courses import apis

urlpatterns = [
    path("courses/", apis.CourseListApi.as_view(), name="api-courses"),
    path("courses/<uuid:public_id>/", apis.CourseDetailApi.as_view(), name="api-course"),
    path("courses/<uuid:public_id>/units/", apis.UnitCreateApi.as_view(), name="api-course-units"),
    path("courses/<uuid:public_id>/items/", apis.ItemCreateApi.as_view(), name="api-course-items"),
    path(
        "courses/<uuid:public_id>/items/<uuid:item_id>/",
        apis.ItemDetailApi.as_view(),
        name="api-course-item",
    ),
    path(
        "courses/<uuid:public_id>/assignment/",
        apis.CourseAssignmentApi.as_view(),
        name="api-course-assignment",
    ),
    path(
        "courses/<uuid:public_id>/duplicate/",
        apis.CourseDuplicateApi.as_view(),
        name="api-course-duplicate",
    ),
    path(
        "courses/<uuid:public_id>/template/",
        apis.CourseTemplateApi.as_view(),
        name="api-course-template",
    ),
    path("courses/<uuid:public_id>/use/", apis.CourseUseApi.as_view(), name="api-course-use"),
    path(
        "exercise-templates/", apis.ExerciseTemplateListApi.as_view(), name="api-exercise-templates"
    ),
    path(
        "exercises/<uuid:public_id>/template/",
        apis.ExerciseTemplateApi.as_view(),
        name="api-exercise-template",
    ),
    path("exercises/<uuid:public_id>/use/", apis.ExerciseUseApi.as_view(), name="api-exercise-use"),
    path("copies/", apis.CopyCreateApi.as_view(), name="api-copies"),
    path("copies/<uuid:public_id>/", apis.CopyDetailApi.as_view(), name="api-copy"),
]
