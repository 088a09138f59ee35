"""Billing's side of joining a tenant, for tenants.services (which imports no other app).

`tenants` loads the object named by the PRACTIKA_MEMBERSHIP_POLICY setting and asks it before
anyone joins and after membership changes; billing answers with the plan's student limit and
keeps a school's seat count in step.
"""

from __future__ import annotations

from billing import services
from tenants.models import Role, Tenant, User


class MembershipPolicy:
    @staticmethod
    def check_join(*, tenant: Tenant, user: User | None, role: str) -> None:
        """Raise LimitReached when `tenant` cannot take another student."""
        if role == Role.STUDENT:
            # One join at a time per tenant, so two at once cannot both take the last place.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            services.check_can_add_student(tenant=tenant)

    @staticmethod
    def check_joins(*, tenant: Tenant, role: str, count: int) -> None:
        """Raise LimitReached when `tenant` cannot take `count` more students (a roster)."""
        if role == Role.STUDENT and count:
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            services.check_can_add_student(tenant=tenant, count=count)

    @staticmethod
    def changed(*, tenant: Tenant) -> None:
        """Students joined or left: bring the school's seats in step (debounced)."""
        services.seats_sync_schedule(tenant=tenant)
