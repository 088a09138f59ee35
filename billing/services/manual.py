"""Plans that platform staff assign by hand, without Stripe (a pilot, a partner)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billing import chrome, plans
from billing.errors import BillingError, BillingErrorCode
from billing.models import Subscription
from billing.services.sync import now_version, record_change
from tenants.models import Tenant, User


@transaction.atomic
def subscription_assign_manual(
    *, actor: User, plan_code: str, tenant: Tenant | None = None, user: User | None = None,
    quantity: int = 1,
) -> Subscription:
    """Staff put a tenant (or a person) on a plan by hand, without Stripe (e.g. a pilot)."""
    if not actor.is_staff:
        raise BillingError("Only Practika staff assign plans.", code=BillingErrorCode.FORBIDDEN)
    plan = plans.PLANS.get(plan_code)
    if plan is None or not plan.is_paid:
        raise BillingError("Choose a paid plan.", code=BillingErrorCode.PLAN_UNKNOWN)
    if (tenant is None) == (user is None):
        raise BillingError(
            "Assign a plan to a tenant or to a person.", code=BillingErrorCode.OWNER_REQUIRED
        )
    owner = {"tenant": tenant} if tenant is not None else {"user": user}
    Subscription.objects.filter(source=Subscription.Source.MANUAL, **owner).exclude(
        status=Subscription.Status.CANCELED
    ).update(status=Subscription.Status.CANCELED, canceled_at=timezone.now())
    chrome.forget(tenant_id=tenant.pk if tenant is not None else None)
    price = plan.prices[0]
    subscription = Subscription.objects.create(
        source=Subscription.Source.MANUAL, plan_code=plan.code, status=Subscription.Status.ACTIVE,
        quantity=quantity, unit_amount=price.unit_amount, interval=price.interval,
        started_at=timezone.now(), stripe_version=now_version(), **owner,
    )
    record_change(subscription, timezone.now())
    from tenants.services import audit

    audit(actor=actor, tenant=tenant, action="billing.plan_assigned", plan=plan.code)
    return subscription

