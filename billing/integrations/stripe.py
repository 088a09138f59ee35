"""The one module that imports the stripe SDK.

Everything else in Practika calls these functions and gets plain dicts back, so the SDK's
objects and errors never leak out (a failed call raises billing.errors.StripeUnavailable when
a retry may help, StripeFailed otherwise), and tests point the real SDK at a local server
(`STRIPE_API_BASE`).
With no `STRIPE_SECRET_KEY` nothing here is called: billing runs offline on the free plan.
https://docs.stripe.com/api
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import stripe
from django.conf import settings

from billing.errors import (
    BillingErrorCode,
    BillingNotConfigured,
    SignatureInvalid,
    StripeFailed,
    StripeUnavailable,
)

# The SDK's errors worth a retry (network, Stripe's own 5xx and rate limits); others are final.
_TRANSIENT: tuple[type[Exception], ...] = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
)

P = ParamSpec("P")
R = TypeVar("R")


def _our_errors(call: Callable[P, R]) -> Callable[P, R]:
    """Turn the SDK's errors into ours, so that no caller needs to know the SDK."""

    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(*args, **kwargs)
        except _TRANSIENT as error:
            raise StripeUnavailable(str(error)) from error
        except stripe.StripeError as error:
            raise StripeFailed(str(error)) from error

    return wrapper


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise BillingNotConfigured(
            "Billing is not configured on this server.", code=BillingErrorCode.NO_BILLING
        )
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
    )


def _plain(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


# --- Webhooks -----------------------------------------------------------------------------


def construct_event(*, payload: bytes, signature: str | None, secret: str) -> dict:
    """Verify the `Stripe-Signature` header on the raw body and return the event as a dict."""
    if not secret or not signature:
        raise SignatureInvalid("missing signature or webhook secret")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise SignatureInvalid(str(error)) from error
    return _plain(event)


def sign_payload(*, payload: str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header (`t=…,v1=…`) for `payload`, as Stripe would send it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


# --- Catalogue ----------------------------------------------------------------------------


@_our_errors
def product_get(product_id: str) -> dict | None:
    try:
        return _plain(_client().v1.products.retrieve(product_id))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


@_our_errors
def product_create(*, product_id: str, name: str, description: str, metadata: dict) -> dict:
    params = {"id": product_id, "name": name, "description": description, "metadata": metadata}
    return _plain(_client().v1.products.create(params=params))


@_our_errors
def product_update(*, product_id: str, name: str, description: str, metadata: dict) -> dict:
    params = {"name": name, "description": description, "metadata": metadata, "active": True}
    return _plain(_client().v1.products.update(product_id, params=params))


@_our_errors
def prices_by_lookup_key(lookup_keys: list[str]) -> dict[str, dict]:
    """Active prices named by `lookup_keys`, keyed by lookup key."""
    page = _client().v1.prices.list(
        params={"lookup_keys": lookup_keys, "active": True, "limit": 100}
    )
    return {p["lookup_key"]: _plain(p) for p in page.data}


@_our_errors
def price_create(
    *, product_id: str, lookup_key: str, unit_amount: int, currency: str, interval: str
) -> dict:
    """A new price that takes over `lookup_key` (prices are immutable in Stripe)."""
    params = {
        "product": product_id,
        "lookup_key": lookup_key,
        "transfer_lookup_key": True,
        "unit_amount": unit_amount,
        "currency": currency,
        "recurring": {"interval": interval},
    }
    return _plain(_client().v1.prices.create(params=params))


# --- Checkout and the Customer Portal -----------------------------------------------------


@_our_errors
def checkout_session_create(
    *,
    price_id: str,
    quantity: int,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: dict[str, str],
    trial_days: int = 0,
    customer_id: str = "",
    customer_email: str = "",
) -> dict:
    """A Checkout Session in subscription mode; the caller redirects to its `url`."""
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": quantity}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "subscription_data": subscription_data,
        "allow_promotion_codes": True,
    }
    if customer_id:
        params["customer"] = customer_id
    elif customer_email:
        params["customer_email"] = customer_email
    return _plain(_client().v1.checkout.sessions.create(params=params))


@_our_errors
def checkout_session_get(session_id: str) -> dict:
    """A Checkout Session with its subscription expanded (read on return from Checkout)."""
    return _plain(
        _client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["subscription"]})
    )


@_our_errors
def portal_session_create(*, customer_id: str, return_url: str) -> dict:
    params = {"customer": customer_id, "return_url": return_url}
    return _plain(_client().v1.billing_portal.sessions.create(params=params))


# --- Subscriptions and invoices -----------------------------------------------------------


@_our_errors
def subscription_get(subscription_id: str) -> dict:
    return _plain(_client().v1.subscriptions.retrieve(subscription_id))


@_our_errors
def subscription_cancel(subscription_id: str) -> dict | None:
    """Cancel a subscription now (`DELETE /v1/subscriptions/{id}`); None if Stripe has none by
    that id (cancelled and gone already)."""
    try:
        return _plain(_client().v1.subscriptions.cancel(subscription_id))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


@_our_errors
def subscription_item_set_quantity(*, item_id: str, quantity: int, proration: str) -> dict:
    """Change a subscription item's quantity (a school's seats), prorated."""
    params = {"quantity": quantity, "proration_behavior": proration}
    return _plain(_client().v1.subscription_items.update(item_id, params=params))


@_our_errors
def invoice_preview(*, customer_id: str, subscription_id: str) -> dict:
    """The next invoice (`POST /v1/invoices/create_preview`, which replaced `upcoming`)."""
    params = {"customer": customer_id, "subscription": subscription_id}
    return _plain(_client().v1.invoices.create_preview(params=params))


@_our_errors
def invoices_list(*, customer_id: str, limit: int = 12) -> list[dict]:
    page = _client().v1.invoices.list(params={"customer": customer_id, "limit": limit})
    return [_plain(i) for i in page.data]
