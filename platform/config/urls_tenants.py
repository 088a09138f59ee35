"""URLs of a tenant's host (`<slug>.<base domain>`). Every route here is members-only unless
named in tenants.middleware.OPEN_URL_NAMES; the tenant-isolation test walks them all."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health
from tenants.views import login

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("tenants.urls_tenant")),
    path("support/hijack/", include("tenants.urls_hijack")),
    path("", include("billing.urls_tenant")),
    path("", include("learning.urls")),
    path("", include("analytics.urls")),
    path("accounts/", include(login.allauth_urls())),
    path("api/v1/auth/", include("tenants.urls_auth")),
    path("api/v1/", include("tenants.urls_api")),
    path("api/v1/", include("learning.urls_api")),
    path("", include("learning.storage.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
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
