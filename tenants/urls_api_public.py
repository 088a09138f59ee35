"""Public-site API routes (sign-up, my tenants)."""

from django.urls import path

from tenants.apis import public

app_name = "public_api"

urlpatterns = [
    path("signup/", public.SignupApi.as_view(), name="signup"),
    path("me/tenants/", public.MyTenantsApi.as_view(), name="my_tenants"),
]
