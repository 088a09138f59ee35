"""Public-site API routes (sign-up, my tenants)."""

from django.urls import path

from tenants import apis

app_name = "public_api"

urlpatterns = [
    path("signup/", apis.SignupApi.as_view(), name="signup"),
    path("me/tenants/", apis.MyTenantsApi.as_view(), name="my_tenants"),
]
