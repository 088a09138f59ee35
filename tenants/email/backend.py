"""The email backend every message goes through: suppressed addresses never get mail.

`EMAIL_BACKEND` names this class in every environment; the backend that actually delivers is
`PRACTIKA_EMAIL_DELIVERY_BACKEND` (anymail's Amazon SES backend in production, SMTP in
compose, the terminal in development). Each batch costs one query: every recipient of every
message is looked up at once; suppressed ones are removed from To, Cc and Bcc, and a message
left with nobody is not sent at all.
"""

from __future__ import annotations

import logging
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from tenants.email.selectors import suppressed_among

logger = logging.getLogger(__name__)


def _address(recipient: str) -> str:
    return parseaddr(recipient)[1].lower()


class SuppressingEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.delivery = get_connection(
            settings.PRACTIKA_EMAIL_DELIVERY_BACKEND, fail_silently=fail_silently, **kwargs
        )

    def open(self):
        return self.delivery.open()

    def close(self):
        return self.delivery.close()

    def send_messages(self, email_messages):
        messages = list(email_messages or [])
        suppressed = suppressed_among(
            emails=[_address(r) for message in messages for r in message.recipients()]
        )
        deliverable = [message for message in messages if self._keep(message, suppressed)]
        if not deliverable:
            return 0
        return self.delivery.send_messages(deliverable)

    @staticmethod
    def _keep(message, suppressed: set[str]) -> bool:
        if not suppressed:
            return bool(message.recipients())
        dropped = [r for r in message.recipients() if _address(r) in suppressed]
        if dropped:
            for field in ("to", "cc", "bcc"):
                kept = [r for r in getattr(message, field) if _address(r) not in suppressed]
                setattr(message, field, kept)
            logger.info(
                "email to suppressed address(es) dropped: %s (subject %r)",
                ", ".join(_address(r) for r in dropped),
                message.subject,
            )
        return bool(message.recipients())
