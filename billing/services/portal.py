"""The Stripe Customer Portal, where a payer changes card, reads invoices or cancels."""

from __future__ import annotations

from billing.errors import BillingError, BillingErrorCode
from billing.integrations import stripe as stripe_api
from billing.models import BillingCustomer
from billing.services.checkout import require_stripe
from billing.services.links import return_base
from tenants.models import Tenant, User


def portal_url(*, tenant: Tenant, user: User, for_user: bool = False) -> str:
    """A Stripe Customer Portal URL (card, invoices, cancel) for the tenant or the person."""
    require_stripe()
    owner = {"user": user} if for_user else {"tenant": tenant}
    customer = BillingCustomer.objects.filter(**owner).first()
    if customer is None:
        raise BillingError(
            "There is no billing account yet: choose a plan first.",
            code=BillingErrorCode.NO_CUSTOMER,
        )
    session = stripe_api.portal_session_create(
        customer_id=customer.stripe_customer_id,
        return_url=return_base(tenant=tenant, for_user=for_user),
    )
    return session["url"]

