"""What tenants calls when someone joins (the PRACTIKA_MEMBER_JOINED_HOOKS setting)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from learning.roster import services
from tenants.models import Membership


def on_member_joined(*, membership: Membership) -> None:
    """A roster's invitee accepted: put them into the classes the roster named."""
    with tenant_context(membership.tenant):
        services.roster_enrol_pending(user=membership.user)
