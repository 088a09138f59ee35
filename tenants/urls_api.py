"""Tenant-host API routes (members-only by default: see tenants.permissions)."""

from django.urls import path

from tenants import apis

app_name = "api"

urlpatterns = [
    path("tenant/", apis.TenantDetailApi.as_view(), name="tenant"),
    path("members/", apis.MemberListApi.as_view(), name="members"),
    path("members/<uuid:public_id>/", apis.MemberUpdateApi.as_view(), name="member"),
    path("invitations/", apis.InvitationListCreateApi.as_view(), name="invitations"),
    path(
        "invitations/<uuid:public_id>/", apis.InvitationRevokeApi.as_view(), name="invitation"
    ),
    path(
        "invitations/<str:token>/accept/",
        apis.InvitationAcceptApi.as_view(),
        name="invitation_accept",
    ),
    path("join-code/rotate/", apis.JoinCodeRotateApi.as_view(), name="join_code_rotate"),
    path("join/", apis.JoinApi.as_view(), name="join"),
]
