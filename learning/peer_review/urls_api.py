"""Peer review's API (included by learning.urls_api under /api/v1/)."""

from django.urls import path

from learning.peer_review import apis

urlpatterns = [
    path("peer-reviews/", apis.PeerReviewListApi.as_view(), name="api-peer-reviews"),
    path(
        "comments/<uuid:public_id>/hide/",
        apis.PeerCommentHideApi.as_view(),
        name="api-comment-hide",
    ),
]
