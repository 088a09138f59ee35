from django.urls import path

from tenants.mfa import views as mfa_views
from tenants.sso import views as sso_views
from tenants.views import audit_log, deletion, entering, guardians, joining, portal, support

app_name = "tenants"

# Open to non-members: handover, invitation_accept, join, no_access, the guardian's pages
# (tenants.middleware).
urlpatterns = [
    path("", entering.tenant_home, name="home"),
    path("after-login/", entering.tenant_home, name="after_login"),
    path("auth/handover/", entering.handover, name="handover"),
    path("no-access/", entering.no_access, name="no_access"),
    path("invitations/<str:token>/", joining.invitation_accept, name="invitation_accept"),
    path("join/", joining.join, name="join"),
    path("join/<str:code>/", joining.join, name="join"),
    path("guardian/<str:token>/", guardians.consent, name="guardian_consent"),
    path(
        "guardian/<str:token>/withdraw/",
        guardians.consent_withdraw,
        name="guardian_consent_withdraw",
    ),
    # Platform staff starting a support session (tenants.impersonation).
    path("support/<uuid:public_id>/", support.support_start, name="support_start"),
    # Admin portal: owners and admins (tenants.decorators.require_admin).
    path("manage/members/", portal.members, name="members"),
    path("manage/members/<uuid:public_id>/role/", portal.member_role, name="member_role"),
    path("manage/members/<uuid:public_id>/remove/", portal.member_remove, name="member_remove"),
    path("manage/invitations/", portal.invitation_create, name="invitation_create"),
    path(
        "manage/invitations/<uuid:public_id>/revoke/",
        portal.invitation_revoke,
        name="invitation_revoke",
    ),
    path("manage/join-code/rotate/", portal.join_code_rotate, name="join_code_rotate"),
    path(
        "manage/guardian-consents/<uuid:public_id>/resend/",
        guardians.consent_resend,
        name="guardian_consent_resend",
    ),
    path("manage/settings/", portal.tenant_settings, name="settings"),
    path("manage/settings/mfa/", mfa_views.tenant_mfa_setting, name="mfa_setting"),
    path("manage/sign-in/", sso_views.sign_on_settings, name="sign_on"),
    path("manage/settings/data/", deletion.data_policy, name="data_policy"),
    # Deletion: the owner's page (open while the deletion is scheduled), a member's own.
    path("manage/deletion/", deletion.tenant_deletion, name="deletion"),
    path("manage/members/<uuid:public_id>/delete/", deletion.member_delete, name="member_delete"),
    path("me/delete/", deletion.member_self_delete, name="member_self_delete"),
    path("manage/settings/support-access/", support.support_access, name="support_access"),
    path("manage/audit/", audit_log.audit_log, name="audit_log"),
    path("manage/audit/export.csv", audit_log.audit_log_csv, name="audit_log_csv"),
]
