from django.urls import path

from learning import apis_alignment

urlpatterns = [
    path(
        "replies/<uuid:public_id>/alignment/",
        apis_alignment.ReplyAlignmentApi.as_view(),
        name="api-reply-alignment",
    ),
]
