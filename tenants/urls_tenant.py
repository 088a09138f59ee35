from django.urls import path

from tenants import views
from tenants.mfa import views as mfa_views

app_name = "tenants"

# Open to non-members: handover, invitation_accept, join, no_access (tenants.middleware).
urlpatterns = [
    path("", views.tenant_home, name="home"),
    path("after-login/", views.tenant_home, name="after_login"),
    path("auth/handover/", views.handover, name="handover"),
    path("no-access/", views.no_access, name="no_access"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join"),
    # Admin portal: owners and admins (tenants.decorators.require_admin).
    path("manage/members/", views.members, name="members"),
    path("manage/members/<uuid:public_id>/role/", views.member_role, name="member_role"),
    path("manage/members/<uuid:public_id>/remove/", views.member_remove, name="member_remove"),
    path("manage/invitations/", views.invitation_create, name="invitation_create"),
    path(
        "manage/invitations/<uuid:public_id>/revoke/", views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("manage/join-code/rotate/", views.join_code_rotate, name="join_code_rotate"),
    path("manage/settings/", views.tenant_settings, name="settings"),
    path("manage/settings/mfa/", mfa_views.tenant_mfa_setting, name="mfa_setting"),
]
