"""Billing pages on a tenant's host (members only, by tenants.middleware)."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("manage/billing/", views.tenant_billing, name="tenant"),
    path("manage/billing/checkout/", views.tenant_checkout, name="tenant_checkout"),
    path("manage/billing/portal/", views.tenant_portal, name="tenant_portal"),
    path("manage/billing/return/", views.tenant_checkout_return, name="tenant_return"),
    path("me/plan/", views.student_plan, name="student"),
    path("me/plan/checkout/", views.student_checkout, name="student_checkout"),
    path("me/plan/portal/", views.student_portal, name="student_portal"),
    path("me/plan/return/", views.student_checkout_return, name="student_return"),
]
