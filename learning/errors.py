"""Errors of the core loop, shown to people as they are."""

from billing.errors import LimitReached
from tenants.errors import DomainError, NotFound, PermissionDenied

# LimitReached is billing's (a size, duration or plan limit; the message names it): one class,
# so a plan limit and the site's own size limit are caught and shown alike. learning may import
# billing; billing may not import learning.
__all__ = ["DomainError", "LimitReached", "NotFound", "PermissionDenied", "UploadRejected"]


class UploadRejected(DomainError):
    status_code = 400
