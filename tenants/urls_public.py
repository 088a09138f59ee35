from django.urls import path

from tenants import views
from tenants.models import Tenant

app_name = "tenants"

urlpatterns = [
    path("", views.public_home, name="home"),
    path("signup/", views.signup_choice, name="signup"),
    path("signup/teacher/", views.signup, {"kind": Tenant.Kind.STUDIO}, name="signup_teacher"),
    path("signup/school/", views.signup, {"kind": Tenant.Kind.SCHOOL}, name="signup_school"),
    path("signup/slug/", views.slug_suggestion, name="slug_suggestion"),
    path("signup/finish/<str:token>/", views.signup_finish, name="signup_finish"),
    path("after-login/", views.after_login, name="after_login"),
    path("go/<slug:slug>/", views.enter_tenant, name="enter"),
    path("auth/handover/vouch/", views.handover_vouch, name="handover_vouch"),
]
