from django.urls import path

from tenants.email.webhooks import SesTrackingWebhookView
from tenants.models import Tenant
from tenants.sso import views as sso_views
from tenants.views import entering, signup

app_name = "tenants"

urlpatterns = [
    path("", signup.public_home, name="home"),
    path("signup/", signup.signup_choice, name="signup"),
    path("signup/teacher/", signup.signup, {"kind": Tenant.Kind.STUDIO}, name="signup_teacher"),
    path("signup/school/", signup.signup, {"kind": Tenant.Kind.SCHOOL}, name="signup_school"),
    path("signup/slug/", signup.slug_suggestion, name="slug_suggestion"),
    path("signup/finish/<str:token>/", signup.signup_finish, name="signup_finish"),
    path("after-login/", entering.after_login, name="after_login"),
    path("go/<slug:slug>/", entering.enter_tenant, name="enter"),
    # Single sign-on for a school (tenants.sso): by its own server or a platform provider.
    path("sso/", sso_views.sso_find_school, name="sso_find_school"),
    path("sso/<slug:slug>/", sso_views.sso_start, name="sso_start"),
    path("sso/<slug:slug>/<slug:provider>/", sso_views.sso_start, name="sso_start"),
    path("auth/handover/vouch/", entering.handover_vouch, name="handover_vouch"),
    # Amazon SNS posts SES bounces and complaints here (tenants.email.webhooks): on the public
    # site only, tenants' hosts do not route it.
    path(
        "webhooks/email/ses/tracking/", SesTrackingWebhookView.as_view(),
        name="ses_tracking_webhook",
    ),
]
