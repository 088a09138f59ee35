"""Errors billing raises for people to read (the API and pages show the message)."""

from tenants.errors import DomainError


class BillingError(DomainError):
    status_code = 400


class BillingNotConfigured(BillingError):
    status_code = 503


class StripeFailed(BillingError):
    """A call to Stripe failed: raised by billing.integrations.stripe in place of the SDK's."""

    status_code = 502
    message = "Stripe could not be reached. Please try again in a minute."

    def __init__(self, detail: str = "", code: str = "stripe_refused"):
        super().__init__(self.message, code)
        self.detail = detail


class StripeUnavailable(StripeFailed):
    """A failure worth a retry: the network, Stripe's own 5xx, or its rate limit."""

    status_code = 503

    def __init__(self, detail: str = ""):
        super().__init__(detail, "stripe_unavailable")


class LimitReached(DomainError):
    """A plan limit was reached: the message names the limit and says where to upgrade."""

    status_code = 403

    def __init__(self, message: str, code: str = "limit_reached", *, upgrade_url: str = ""):
        super().__init__(
            f"{message} Upgrade: {upgrade_url}" if upgrade_url else message, code,
            suggestion=upgrade_url or None,
        )
        self.upgrade_url = upgrade_url


class SignatureInvalid(Exception):
    """A webhook whose signature does not verify (forged, stale or unsigned)."""
