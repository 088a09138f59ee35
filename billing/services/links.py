"""Where billing sends people: a tenant's billing page and a person's own plan page."""

from __future__ import annotations

from tenants import hosts
from tenants.models import Tenant


def upgrade_url(tenant: Tenant) -> str:
    """The tenant's billing page (owners and admins upgrade there)."""
    return hosts.tenant_url(tenant.slug, "/manage/billing/")


def student_plan_url(tenant: Tenant) -> str:
    """A person's own plan page, on the tenant they are using."""
    return hosts.tenant_url(tenant.slug, "/me/plan/")


def return_base(*, tenant: Tenant, for_user: bool) -> str:
    """Where Stripe sends people back: the person's plan page or the tenant's billing page."""
    return student_plan_url(tenant) if for_user else upgrade_url(tenant)
