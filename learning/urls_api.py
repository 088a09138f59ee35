"""The API of the core loop on a tenant's host, included under /api/v1/: exercises and classes,
replies and comments, uploads, media and alignments (each feature's `apis` module)."""

from django.urls import include, path

from learning.alignment import apis as alignment
from learning.coteachers.urls import api_urlpatterns as coteachers
from learning.exercises import apis as exercises
from learning.exports import apis as exports
from learning.feedback_library.urls import api as feedback_library_api
from learning.media import apis as media
from learning.replies import apis as replies
from learning.uploads import apis as uploads

urlpatterns = [
    # Exercises and classes
    path("exercises/", exercises.ExerciseListApi.as_view(), name="api-exercises"),
    path("exercises/<uuid:public_id>/", exercises.ExerciseDetailApi.as_view(), name="api-exercise"),
    path(
        "exercises/<uuid:public_id>/publish/",
        exercises.ExercisePublishApi.as_view(),
        name="api-exercise-publish",
    ),
    path("classes/", exercises.ClassroomListApi.as_view(), name="api-classes"),
    # Replies and comments
    path("replies/", replies.ReplyListApi.as_view(), name="api-replies"),
    path("inbox/", replies.InboxApi.as_view(), name="api-inbox"),
    path("replies/<uuid:public_id>/", replies.ReplyDetailApi.as_view(), name="api-reply"),
    path(
        "replies/<uuid:public_id>/review/",
        replies.ReplyReviewApi.as_view(),
        name="api-reply-review",
    ),
    path(
        "replies/<uuid:public_id>/sync-offset/",
        replies.ReplySyncOffsetApi.as_view(),
        name="api-reply-sync-offset",
    ),
    path("replies/<uuid:public_id>/seen/", replies.ReplySeenApi.as_view(), name="api-reply-seen"),
    path(
        "replies/<uuid:public_id>/comments/",
        replies.CommentListApi.as_view(),
        name="api-reply-comments",
    ),
    path("comments/<uuid:public_id>/", replies.CommentDetailApi.as_view(), name="api-comment"),
    # Alignment
    path(
        "replies/<uuid:public_id>/alignment/",
        alignment.ReplyAlignmentApi.as_view(),
        name="api-reply-alignment",
    ),
    # Uploads and media
    path("uploads/", uploads.UploadStartApi.as_view(), name="api-uploads"),
    path("uploads/<str:token>/", uploads.UploadApi.as_view(), name="api-upload"),
    path(
        "uploads/<str:token>/complete/",
        uploads.UploadCompleteApi.as_view(),
        name="api-upload-complete",
    ),
    path("media/<uuid:public_id>/", media.MediaDetailApi.as_view(), name="api-media"),
    # Exports
    path("exports/", exports.ExportListApi.as_view(), name="api-exports"),
    path("exports/<uuid:public_id>/", exports.ExportDetailApi.as_view(), name="api-export"),
    path(
        "exports/<uuid:public_id>/download/",
        exports.ExportDownloadApi.as_view(),
        name="api-export-download",
    ),
    *feedback_library_api,
    # Courses, templates and copies to another school (learning.courses)
    path("", include("learning.courses.urls_api")),
    # Peer review
    path("", include("learning.peer_review.urls_api")),
    *coteachers,
    # Rubrics, scores and the gradebook
    path("", include("learning.rubrics.urls_api")),
]
