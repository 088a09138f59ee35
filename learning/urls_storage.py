"""Local stand-ins for S3's presigned URLs (see learning.views_storage), on a tenant's host."""

from django.urls import path

from learning import views_storage

urlpatterns = [
    path(
        "uploads/<str:token>/parts/<int:number>",
        views_storage.upload_part,
        name="upload-part",
    ),
    path("media-signed/<str:token>/", views_storage.signed_media, name="media-signed"),
]
