"""The feedback library's page and API routes (included by learning/urls.py and urls_api.py)."""

from django.urls import path

from learning.feedback_library import apis, views

pages = [
    path("teach/feedback-library/", views.library, name="feedback_library"),
    path(
        "teach/feedback-library/<uuid:public_id>/",
        views.library_edit,
        name="feedback_library_edit",
    ),
    path(
        "teach/feedback-library/<uuid:public_id>/delete/",
        views.library_delete,
        name="feedback_library_delete",
    ),
]

api = [
    path("feedback-library/", apis.SavedCommentListApi.as_view(), name="api-feedback-library"),
    path(
        "feedback-library/<uuid:public_id>/",
        apis.SavedCommentDetailApi.as_view(),
        name="api-saved-comment",
    ),
]
