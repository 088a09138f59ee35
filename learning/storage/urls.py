"""Local stand-ins for S3's presigned URLs (see learning.storage.views), on a tenant's host."""

from django.urls import path

from learning.storage import views

urlpatterns = [
    path(
        "uploads/<str:token>/parts/<int:number>",
        views.upload_part,
        name="upload-part",
    ),
    path("media-signed/<str:token>/", views.signed_media, name="media-signed"),
]
