"""Who may open a page: tenant admins on a tenant's host, platform staff on the public site.

Membership itself is enforced for every tenant page by tenants.middleware; these add the role.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from tenants.models import ADMIN_ROLES


def forbidden(request, message: str):
    """The 403 page with a sentence saying why; shared by every app's role checks."""
    return render(request, "tenants/forbidden.html", {"message": message}, status=403)


def require_admin(view):
    """Owners and admins of the current tenant only; teachers and students get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.tenant.schema_name == "public":
            raise Http404("Admin pages live on a school's or studio's own address.")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = getattr(request, "membership", None)
        if membership is None or membership.role not in ADMIN_ROLES:
            return forbidden(request, "Only the owner and admins can manage this page.")
        return view(request, *args, **kwargs)

    return wrapper


def require_staff(view):
    """Practika's own staff (`is_staff`) on the public site only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            return forbidden(request, "This area is for Practika staff.")
        return view(request, *args, **kwargs)

    return wrapper
