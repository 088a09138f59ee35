"""Who may do what inside a tenant. The current tenant is implicit (we are in its schema);
the caller passes the acting user's membership, which the request already carries."""

from __future__ import annotations

from learning.errors import PermissionDenied


def is_teacher(membership) -> bool:
    return membership is not None and membership.role in {"owner", "admin", "teacher"}


def is_student(membership) -> bool:
    return membership is not None and membership.role == "student"


def require_teacher(membership) -> None:
    if not is_teacher(membership):
        raise PermissionDenied("Only teachers can do this.", code="teachers_only")
