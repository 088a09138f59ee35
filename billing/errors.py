"""Errors billing raises for people to read (the API and pages show the message).

Every DomainError raised in billing carries a `BillingErrorCode`: the API's `{"code", …}`
strings are the enum's values, so they are listed here once and stay the same.
"""

from enum import StrEnum

from tenants.errors import DomainError


class BillingErrorCode(StrEnum):
    # Plan limits (LimitReached)
    LIMIT_REACHED = "limit_reached"
    PAYMENT_OVERDUE = "payment_overdue"
    STUDENT_LIMIT = "student_limit"
    EXERCISE_LIMIT = "exercise_limit"
    STORAGE_LIMIT = "storage_limit"
    VIDEO_LENGTH_LIMIT = "video_length_limit"
    ATTEMPTS_LIMIT = "attempts_limit"
    # Choosing and paying for a plan
    PLAN_UNKNOWN = "plan_unknown"
    PLAN_UNAVAILABLE = "plan_unavailable"
    ALREADY_SUBSCRIBED = "already_subscribed"
    PRICE_MISSING = "price_missing"
    CHECKOUT_UNKNOWN = "checkout_unknown"
    CHECKOUT_NOT_YOURS = "checkout_not_yours"
    NO_CUSTOMER = "no_customer"
    # Staff assigning plans by hand
    FORBIDDEN = "forbidden"
    OWNER_REQUIRED = "owner_required"
    # Stripe itself
    NO_BILLING = "no_billing"
    BILLING_NOT_CONFIGURED = "billing_not_configured"
    STRIPE_UNAVAILABLE = "stripe_unavailable"
    STRIPE_REFUSED = "stripe_refused"


class BillingError(DomainError):
    status_code = 400

    def __init__(self, message: str, code: BillingErrorCode):
        super().__init__(message, code)


class BillingNotConfigured(BillingError):
    status_code = 503


class StripeFailed(BillingError):
    """A call to Stripe failed; raised by billing.integrations.stripe in place of the SDK's."""

    status_code = 502
    message = "Stripe could not be reached. Please try again in a minute."

    def __init__(self, detail: str = "", code: BillingErrorCode = BillingErrorCode.STRIPE_REFUSED):
        super().__init__(self.message, code)
        self.detail = detail


class StripeUnavailable(StripeFailed):
    """A failure worth a retry: the network, Stripe's own 5xx, or its rate limit."""

    status_code = 503

    def __init__(self, detail: str = ""):
        super().__init__(detail, BillingErrorCode.STRIPE_UNAVAILABLE)


class LimitReached(DomainError):
    """A plan limit was reached: the message names the limit and says where to upgrade.

    The one LimitReached of Practika: learning.errors re-exports it for its own size limits
    (learning may import billing; billing may not import learning).
    """

    status_code = 403

    def __init__(
        self, message: str, code: str = BillingErrorCode.LIMIT_REACHED, *, upgrade_url: str = ""
    ):
        super().__init__(
            f"{message} Upgrade: {upgrade_url}" if upgrade_url else message, code,
            suggestion=upgrade_url or None,
        )
        self.upgrade_url = upgrade_url


class SignatureInvalid(Exception):
    """A webhook whose signature does not verify (forged, stale or unsigned)."""
