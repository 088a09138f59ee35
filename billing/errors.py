"""Errors billing raises for people to read (the API and pages show the message)."""

from tenants.errors import DomainError


class BillingError(DomainError):
    status_code = 400


class BillingNotConfigured(BillingError):
    status_code = 503


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
