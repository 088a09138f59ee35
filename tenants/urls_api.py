"""Tenant-host API routes (members-only by default: see tenants.permissions)."""

from django.urls import path

from tenants.apis import audit, deletion, invitations, members

app_name = "api"

urlpatterns = [
    path("tenant/", members.TenantDetailApi.as_view(), name="tenant"),
    path("tenant/deletion/", deletion.TenantDeletionApi.as_view(), name="tenant_deletion"),
    path("tenant/data-policy/", deletion.DataPolicyApi.as_view(), name="data_policy"),
    path("members/", members.MemberListApi.as_view(), name="members"),
    path("members/me/deletion/", deletion.MyDeletionApi.as_view(), name="my_deletion"),
    path(
        "members/<uuid:public_id>/deletion/", deletion.MemberDeletionApi.as_view(),
        name="member_deletion",
    ),
    path("members/<uuid:public_id>/", members.MemberUpdateApi.as_view(), name="member"),
    path("invitations/", invitations.InvitationListCreateApi.as_view(), name="invitations"),
    path(
        "invitations/<uuid:public_id>/", invitations.InvitationRevokeApi.as_view(),
        name="invitation",
    ),
    path(
        "invitations/<str:token>/accept/",
        invitations.InvitationAcceptApi.as_view(),
        name="invitation_accept",
    ),
    path("join-code/rotate/", invitations.JoinCodeRotateApi.as_view(), name="join_code_rotate"),
    path("join/", invitations.JoinApi.as_view(), name="join"),
    path("audit-events/", audit.AuditEventListApi.as_view(), name="audit_events"),
]
