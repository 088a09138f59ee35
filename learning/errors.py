"""Errors of the core loop, shown to people as they are."""

from tenants.errors import DomainError, NotFound, PermissionDenied

__all__ = ["DomainError", "LimitReached", "NotFound", "PermissionDenied", "UploadRejected"]


class UploadRejected(DomainError):
    status_code = 400


class LimitReached(DomainError):
    """A size, duration or plan limit was reached; the message names the limit."""

    status_code = 403
