"""API permission classes. `IsTenantMember` is the API's default, so every API route on a
tenant's host is members-only unless a view opts out explicitly."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from tenants import selectors
from tenants.models import ADMIN_ROLES, TEACHING_ROLES


def api_membership(request):
    """The caller's membership of this tenant: the one the middleware read with the page's
    chrome (one cache read, dropped when the membership changes) when the API's user is the
    session's, else read for the token's user."""
    if not hasattr(request, "_api_membership"):
        page_chrome = getattr(getattr(request, "_request", request), "page_chrome", None)
        if page_chrome is not None and page_chrome.user.pk == request.user.pk:
            request._api_membership = page_chrome.membership
        else:
            request._api_membership = selectors.membership_for(
                user=request.user, tenant=request.tenant
            )
    return request._api_membership


class IsTenantMember(BasePermission):
    message = "You are not a member of this school or studio."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.tenant.schema_name == "public":
            return True
        if request.tenant.is_suspended:
            self.message = "This school or studio is suspended."
            return False
        if request.tenant.is_closing and not getattr(view, "open_while_closing", False):
            self.message = (
                "This school or studio is scheduled for deletion; only its owner can cancel it."
            )
            return False
        return api_membership(request) is not None


class HasTenantRole(IsTenantMember):
    """A member of this tenant whose role is one of `roles`."""

    roles: frozenset[str] = frozenset()

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        membership = api_membership(request)
        return membership is not None and membership.role in self.roles


class IsTenantTeacher(HasTenantRole):
    roles = TEACHING_ROLES


class IsTenantAdmin(HasTenantRole):
    message = "Only the owner and admins can do this."
    roles = ADMIN_ROLES


class IsPlatformStaff(BasePermission):
    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.is_staff
            and request.tenant.schema_name == "public"
        )


class IsAuthenticatedOnActiveTenant(BasePermission):
    """Any logged-in person on an active tenant's host: for the few API routes that exist so
    that non-members can become members (join with a code, accept an invitation)."""

    message = "This school or studio is not taking new members here."

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated
            and request.tenant.schema_name != "public"
            and not request.tenant.is_suspended
            and not request.tenant.is_closing
        )


class PublicSiteOrTenantMember(IsTenantMember):
    """The API schema and docs: open on the public site, members-only on a tenant's host,
    like every other route there (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"])."""

    def has_permission(self, request, view):
        if request.tenant.schema_name == "public":
            return True
        return super().has_permission(request, view)
