"""Practika staff area on the public site (`/staff/`); every view requires `is_staff`."""

from django.urls import path

from tenants import staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.tenant_list, name="tenant_list"),
    path("tenants/<uuid:public_id>/", staff_views.tenant_detail, name="tenant_detail"),
    path("tenants/<uuid:public_id>/suspend/", staff_views.tenant_suspend, name="tenant_suspend"),
    path(
        "tenants/<uuid:public_id>/reactivate/", staff_views.tenant_reactivate,
        name="tenant_reactivate",
    ),
    path("tenants/<uuid:public_id>/restore/", staff_views.tenant_restore, name="tenant_restore"),
    path(
        "tenants/<uuid:public_id>/impersonate/", staff_views.tenant_impersonate,
        name="tenant_impersonate",
    ),
    path(
        "impersonations/<uuid:public_id>/go/", staff_views.impersonation_go,
        name="impersonation_go",
    ),
]
