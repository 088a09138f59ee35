"""Reads of the suppression list."""

from __future__ import annotations

from collections.abc import Iterable

from tenants.models import EmailSuppression


def suppressed_among(*, emails: Iterable[str]) -> set[str]:
    """The lower-cased addresses of `emails` that are suppressed (one query)."""
    wanted = {email.strip().lower() for email in emails if email}
    if not wanted:
        return set()
    return set(EmailSuppression.objects.filter(email__in=wanted).values_list("email", flat=True))
