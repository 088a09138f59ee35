"""Local stand-ins for S3's presigned URLs (the embedded default), on a tenant's host: parts are
PUT to `upload-part` (learning.uploads.views) and media plays from `media-signed`
(learning.storage.views). Names without a namespace: storage reverses them directly."""

from django.urls import path

from learning.storage import views
from learning.uploads import views as upload_views

urlpatterns = [
    path("uploads/<str:token>/parts/<int:number>", upload_views.upload_part, name="upload-part"),
    path("media-signed/<str:token>/", views.signed_media, name="media-signed"),
]
