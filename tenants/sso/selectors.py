"""Reads for single sign-on."""

from __future__ import annotations

from tenants.models import SchoolSignOn, Tenant


def sign_on_for(*, tenant: Tenant) -> SchoolSignOn | None:
    """`tenant`'s sign-on rules and its own server, if it has set any."""
    return SchoolSignOn.objects.select_related("app").filter(tenant=tenant).first()
