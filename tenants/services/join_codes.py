"""A tenant's join code: students who have it join on their own; admins renew it."""

from __future__ import annotations

from django.db import transaction

from tenants.errors import InvitationInvalid
from tenants.models import Membership, Role, Tenant, User, new_join_code
from tenants.services.auditing import audit
from tenants.services.members import membership_join, require_admin
from tenants.services.users import user_create


@transaction.atomic
def join_code_rotate(*, tenant: Tenant, actor: User) -> str:
    """Issue a new join code; the old one stops working at once."""
    require_admin(tenant=tenant, actor=actor)
    tenant.join_code = new_join_code()
    tenant.save(update_fields=["join_code", "updated_at"])
    audit(actor=actor, tenant=tenant, action="join_code.rotated")
    return tenant.join_code


def join_code_check(*, tenant: Tenant, code: str) -> None:
    """Raise InvitationInvalid unless `code` is the tenant's current join code."""
    if not code or code.strip().upper() != tenant.join_code:
        raise InvitationInvalid(
            "That join code is not valid. Check it with your teacher — codes can be renewed.",
            code="join_code_invalid",
        )


@transaction.atomic
def join_with_code(*, tenant: Tenant, code: str, user: User) -> Membership:
    """Join a tenant as a student with its current join code."""
    join_code_check(tenant=tenant, code=code)
    return membership_join(user=user, tenant=tenant, role=Role.STUDENT)


@transaction.atomic
def join_with_code_signup(
    *, tenant: Tenant, code: str, email: str, password: str, full_name: str
) -> Membership:
    """A new person creates an account and joins a tenant as a student with its join code."""
    join_code_check(tenant=tenant, code=code)
    user = user_create(email=email, password=password, full_name=full_name)
    return join_with_code(tenant=tenant, code=code, user=user)
