"""Co-teaching pages (included by learning.urls, namespace `learning`) and API routes
(included by learning.urls_api)."""

from django.urls import path

from learning.coteachers import apis, views

urlpatterns = [
    path("replies/<uuid:public_id>/assign/", views.reply_assign, name="reply_assign"),
    path("manage/open-work/", views.open_work, name="open_work"),
]

api_urlpatterns = [
    path(
        "replies/<uuid:public_id>/assign/",
        apis.ReplyAssignApi.as_view(),
        name="api-reply-assign",
    ),
]
