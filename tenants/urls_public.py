from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.public_home, name="home"),
    path("after-login/", views.after_login, name="after_login"),
    path("go/<slug:slug>/", views.enter_tenant, name="enter"),
]
