from django.urls import path

from learning import apis

urlpatterns = [
    path("exercises/", apis.ExerciseListApi.as_view(), name="api-exercises"),
    path("exercises/<uuid:public_id>/", apis.ExerciseDetailApi.as_view(), name="api-exercise"),
    path(
        "exercises/<uuid:public_id>/publish/",
        apis.ExercisePublishApi.as_view(),
        name="api-exercise-publish",
    ),
    path("classes/", apis.ClassroomListApi.as_view(), name="api-classes"),
    path("replies/", apis.ReplyListApi.as_view(), name="api-replies"),
    path("inbox/", apis.InboxApi.as_view(), name="api-inbox"),
    path("replies/<uuid:public_id>/", apis.ReplyDetailApi.as_view(), name="api-reply"),
    path(
        "replies/<uuid:public_id>/review/", apis.ReplyReviewApi.as_view(), name="api-reply-review"
    ),
    path(
        "replies/<uuid:public_id>/sync-offset/",
        apis.ReplySyncOffsetApi.as_view(),
        name="api-reply-sync-offset",
    ),
    path(
        "replies/<uuid:public_id>/comments/",
        apis.CommentListApi.as_view(),
        name="api-reply-comments",
    ),
    path("comments/<uuid:public_id>/", apis.CommentDetailApi.as_view(), name="api-comment"),
]
