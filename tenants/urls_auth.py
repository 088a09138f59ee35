"""`/api/v1/auth/` on the public site and on every tenant's host: dj-rest-auth's routes (with
Practika's serializers, see REST_AUTH in settings), our logout, and the token list.
The trailing slash is optional on dj-rest-auth's routes, as in dj_rest_auth.urls."""

from dj_rest_auth import views as rest_auth
from django.urls import path, re_path

from tenants.apis import auth

urlpatterns = [
    re_path(
        r"^password/reset/?$", rest_auth.PasswordResetView.as_view(), name="rest_password_reset"
    ),
    re_path(
        r"^password/reset/confirm/?$",
        rest_auth.PasswordResetConfirmView.as_view(),
        name="rest_password_reset_confirm",
    ),
    re_path(r"^login/?$", rest_auth.LoginView.as_view(), name="rest_login"),
    # dj-rest-auth's logout deletes `user.auth_token`, a one-per-user token Practika no longer
    # has: ours revokes the token that made the call.
    re_path(r"^logout/?$", auth.LogoutApi.as_view(), name="rest_logout"),
    re_path(r"^user/?$", rest_auth.UserDetailsView.as_view(), name="rest_user_details"),
    re_path(
        r"^password/change/?$",
        rest_auth.PasswordChangeView.as_view(),
        name="rest_password_change",
    ),
    path("tokens/", auth.ApiTokenListApi.as_view(), name="api_tokens"),
    path("tokens/<uuid:public_id>/", auth.ApiTokenRevokeApi.as_view(), name="api_token"),
]
