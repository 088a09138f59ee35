"""URLs of the public site (the base domain): marketing, sign-up, login, staff area."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import admin_login, health
from tenants.views import login

# The admin logs in through our login, with its rate limits (config.admin_login).
admin.site.login = admin_login.login

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("tenants.urls_public")),
    path("accounts/", include(login.allauth_urls())),
    path("", include("billing.urls_public")),
    path("staff/", include("tenants.urls_staff")),
    path("django-admin/", admin.site.urls),
    path("api/v1/auth/", include("tenants.urls_auth")),
    path("api/v1/", include("tenants.urls_api_public")),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    # Swagger UI from our own static files (drf-spectacular-sidecar), its set-up script a
    # separate request: no CDN, no inline script (the production CSP allows neither).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/docs.html"),
        name="api-docs",
    ),
]

# A path under /api/ that matches no route answers in the API's error shape.
handler404 = "tenants.api_errors.page_not_found"

if settings.DEBUG:
    # Uploaded files (tenant logos) in development only; production serves them from S3.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
