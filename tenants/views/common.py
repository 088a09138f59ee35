"""What the identity and tenancy pages share: starting a session, the "link no longer
valid" page."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.errors import DomainError
from tenants.models import User

# Sessions started by our own pages (sign-up, invitations, handover) use the model backend.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def login_here(request: HttpRequest, user: User) -> None:
    """Start a session for `user` on this host (after a sign-up, an invitation, a handover)."""
    login(request, user, backend=BACKEND)


def link_invalid(request: HttpRequest, error: DomainError) -> HttpResponse:
    """The page for an emailed link that can no longer be used (410), saying why."""
    return render(
        request, "tenants/link_invalid.html",
        {"message": error.message, "code": error.code}, status=410,
    )
