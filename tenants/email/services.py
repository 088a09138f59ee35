"""Writes of the suppression list."""

from __future__ import annotations

import logging

from tenants.models import EmailSuppression

logger = logging.getLogger(__name__)


def email_suppress(*, email: str, reason: str, detail: str = "") -> EmailSuppression:
    """Stop sending to `email` (a permanent bounce or a complaint); the latest reason wins."""
    suppression, created = EmailSuppression.objects.update_or_create(
        email=email.strip().lower(),
        defaults={"reason": reason, "detail": (detail or "")[:500]},
    )
    logger.info(
        "email suppressed: %s (%s)%s", suppression.email, reason, "" if created else ", again"
    )
    return suppression
