"""Stripe Checkout: which plans a tenant is offered, starting a Checkout Session, and storing
its subscription on return (without waiting for the webhook)."""

from __future__ import annotations

from django.db import transaction

from billing import plans, selectors
from billing.errors import BillingError, BillingErrorCode, BillingNotConfigured, StripeFailed
from billing.integrations import stripe as stripe_api
from billing.models import BillingCustomer, Subscription
from billing.services.links import return_base
from billing.services.sync import (
    link_customer,
    now_version,
    owner_from_metadata,
    subscription_apply,
)
from tenants.models import Tenant, User


def require_stripe() -> None:
    """Refuse, with a message for people, when this server has no Stripe key."""
    if not stripe_api.is_configured():
        raise BillingNotConfigured(
            "Billing is not configured on this server: everyone is on the free plan.",
            code=BillingErrorCode.BILLING_NOT_CONFIGURED,
        )



def plans_offered(*, tenant: Tenant) -> list[plans.Plan]:
    """Tenant plans sold to this kind of tenant: Teacher to studios, School to schools."""
    return [plans.SCHOOL] if tenant.kind == Tenant.Kind.SCHOOL else [plans.TEACHER]


@transaction.atomic
def checkout_start(
    *, tenant: Tenant, actor: User, lookup_key: str, for_user: bool = False
) -> str:
    """A Stripe Checkout URL for the plan behind `lookup_key` (tenant plan, or the actor's)."""
    require_stripe()
    match = plans.plan_for_lookup_key(lookup_key)
    if match is None:
        raise BillingError(
            "Choose one of the plans on this page.", code=BillingErrorCode.PLAN_UNKNOWN
        )
    plan, _price = match
    if for_user != (plan.audience == plans.Audience.PERSON) or (
        not for_user and plan not in plans_offered(tenant=tenant)
    ):
        raise BillingError("That plan is not offered here.", code=BillingErrorCode.PLAN_UNAVAILABLE)
    owner = {"user": actor} if for_user else {"tenant": tenant}
    if selectors.current_subscription(**owner) is not None:
        raise BillingError(
            "There is already a plan in place: change it with “Manage billing”.",
            code=BillingErrorCode.ALREADY_SUBSCRIBED,
        )
    price = stripe_api.prices_by_lookup_key([lookup_key]).get(lookup_key)
    if price is None:
        raise BillingError(
            "This plan is not set up in Stripe yet (run sync_stripe_catalogue).",
            code=BillingErrorCode.PRICE_MISSING,
        )
    customer = BillingCustomer.objects.filter(**owner).first()
    had_trial = Subscription.objects.filter(**owner, trial_end__isnull=False).exists()
    metadata = {"practika_plan": plan.code}
    if for_user:
        metadata["practika_user"] = str(actor.public_id)
    else:
        metadata["practika_tenant"] = str(tenant.public_id)
    base = return_base(tenant=tenant, for_user=for_user)
    session = stripe_api.checkout_session_create(
        price_id=price["id"],
        quantity=max(1, selectors.student_count(tenant=tenant)) if plan.per_seat else 1,
        success_url=f"{base}return/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=base,
        client_reference_id=str(actor.public_id if for_user else tenant.public_id),
        metadata=metadata,
        trial_days=0 if had_trial else plan.trial_days,
        customer_id=customer.stripe_customer_id if customer else "",
        customer_email="" if customer else actor.email,
    )
    from tenants.services import audit

    audit(actor=actor, tenant=tenant, action="billing.checkout_started", plan=plan.code)
    return session["url"]


@transaction.atomic
def checkout_return(
    *, session_id: str, tenant: Tenant, user: User, for_user: bool = False
) -> Subscription | None:
    """Read the Checkout Session on return and store its subscription without the webhook."""
    require_stripe()
    try:
        session = stripe_api.checkout_session_get(session_id)
    except StripeFailed as error:
        raise BillingError(
            "That checkout could not be found.", code=BillingErrorCode.CHECKOUT_UNKNOWN
        ) from error
    owner_tenant, owner_user = owner_from_metadata(session.get("metadata"))
    mine = owner_user == user if for_user else owner_tenant == tenant
    if not mine:
        raise BillingError(
            "That checkout belongs to someone else.", code=BillingErrorCode.CHECKOUT_NOT_YOURS
        )
    if session.get("status") != "complete":
        return None
    link_customer(customer_id=session.get("customer") or "", tenant=owner_tenant, user=owner_user)
    subscription = session.get("subscription")
    if isinstance(subscription, str):
        subscription = stripe_api.subscription_get(subscription)
    if not subscription:
        return None
    return subscription_apply(data=subscription, version=now_version())


