"""Who may do what inside a tenant. The current tenant is implicit (we are in its schema);
the caller passes the acting member (a Membership), which the request already carries. The
role groups are tenants.models' (TEACHING_ROLES: owners, admins and teachers)."""

from __future__ import annotations

from learning.errors import PermissionDenied
from tenants.models import TEACHING_ROLES, Membership, Role


def is_teacher(member: Membership | None) -> bool:
    return member is not None and member.role in TEACHING_ROLES


def is_student(member: Membership | None) -> bool:
    return member is not None and member.role == Role.STUDENT


def require_teacher(member: Membership | None) -> None:
    if not is_teacher(member):
        raise PermissionDenied("Only teachers can do this.", code="teachers_only")
