"""Upload and media routes of the API (included under /api/v1/ on a tenant's host)."""

from django.urls import path

from learning import apis_uploads

urlpatterns = [
    path("uploads/", apis_uploads.UploadStartApi.as_view(), name="api-uploads"),
    path("uploads/<str:token>/", apis_uploads.UploadApi.as_view(), name="api-upload"),
    path(
        "uploads/<str:token>/complete/",
        apis_uploads.UploadCompleteApi.as_view(),
        name="api-upload-complete",
    ),
    path("media/<uuid:public_id>/", apis_uploads.MediaDetailApi.as_view(), name="api-media"),
]
