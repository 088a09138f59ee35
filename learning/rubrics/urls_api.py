"""The rubrics and grades API (included by learning/urls_api.py under /api/v1/)."""

from django.urls import path

from learning.rubrics import apis

urlpatterns = [
    path("rubrics/", apis.RubricListApi.as_view(), name="api-rubrics"),
    path("rubrics/<uuid:public_id>/", apis.RubricDetailApi.as_view(), name="api-rubric"),
    path("rubrics/<uuid:public_id>/copy/", apis.RubricCopyApi.as_view(), name="api-rubric-copy"),
    path(
        "exercises/<uuid:public_id>/rubric/",
        apis.ExerciseRubricApi.as_view(),
        name="api-exercise-rubric",
    ),
    path(
        "replies/<uuid:public_id>/scores/",
        apis.ReplyScoresApi.as_view(),
        name="api-reply-scores",
    ),
    path(
        "classes/<uuid:public_id>/gradebook/",
        apis.GradebookApi.as_view(),
        name="api-class-gradebook",
    ),
]
