"""The rubric and gradebook pages (included by learning/urls.py, in its `learning` namespace)."""

from django.urls import path

from learning.rubrics import views

urlpatterns = [
    path("teach/rubrics/", views.rubric_library, name="rubric_library"),
    path("teach/rubrics/new/", views.rubric_new, name="rubric_new"),
    path("teach/rubrics/<uuid:public_id>/", views.rubric_edit, name="rubric_edit"),
    path("teach/rubrics/<uuid:public_id>/copy/", views.rubric_to_library, name="rubric_copy"),
    path("teach/rubrics/<uuid:public_id>/delete/", views.rubric_delete, name="rubric_delete"),
    path(
        "teach/exercises/<uuid:public_id>/rubric/",
        views.exercise_rubric_attach,
        name="exercise_rubric_attach",
    ),
    path("replies/<uuid:public_id>/scores/", views.reply_score, name="reply_score"),
    path("teach/classes/<uuid:public_id>/gradebook/", views.gradebook, name="gradebook"),
    path(
        "teach/classes/<uuid:public_id>/gradebook.csv",
        views.gradebook_csv,
        name="gradebook_csv",
    ),
]
