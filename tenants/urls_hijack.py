"""django-hijack's views on a tenant's host, under hijack's own names (`hijack:acquire`,
`hijack:release`), as our subclasses (tenants.impersonation)."""

from django.urls import path

from tenants import impersonation

app_name = "hijack"

urlpatterns = [
    path("acquire/", impersonation.AcquireView.as_view(), name="acquire"),
    path("release/", impersonation.ReleaseView.as_view(), name="release"),
]
