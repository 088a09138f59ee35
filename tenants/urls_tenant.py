from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_home, name="home"),
    path("after-login/", views.tenant_home, name="after_login"),
    path("auth/handover/", views.handover, name="handover"),
    path("no-access/", views.no_access, name="no_access"),
]
