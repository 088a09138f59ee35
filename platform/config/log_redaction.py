"""Tokens out of the logs: the credentials that URLs carry are replaced with `[redacted]`.

Several URLs hold their own credential, like an S3 presigned URL: an invitation, an upload's
parts, an unsubscribe link, a join code, a signed media URL, a password reset key, an email
confirmation key, the login handover (`?t=`). Anyone who reads a log line holding one could
use it. `redact()` rewrites such path segments and query values wherever they appear in a
line (also percent-encoded, as in `?next=%2Finvitations%2F…`).

`RedactingFilter` sits on every handler: Django's (config.settings.base LOGGING) and uvicorn's
(infra/docker/uvicorn-logging.json, config/uvicorn-dev-logging.json). It redacts the message
and each argument in place, keeping the arguments' shape (uvicorn's access formatter unpacks
them), string attributes passed in `extra=`, and a traceback or stack another handler's
formatter already wrote out on the record. `config.structured_logging.JsonFormatter`
redacts its whole line as well, for values it turns into text itself (a request object).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# A path segment after one of these is a credential.
TOKEN_SEGMENTS = (
    "invitations", "uploads", "unsubscribe", "join", "media-signed", "confirm-email", "guardian",
)
# Every segment after these is (a password reset link: uid, then the key).
TOKEN_TAILS = ("reset/confirm", "reset/key")
# Query parameters that carry a credential or a signature.
TOKEN_PARAMETERS = (
    "token", "t", "key", "code", "uid", "sig", "signature", "x-amz-signature",
    "x-amz-credential", "x-amz-security-token", "policy", "key-pair-id",
)

_SEGMENT_END = r"""[^/?#&\s"'<>\\]"""
_TAILS = "|".join(re.escape(tail) for tail in TOKEN_TAILS)
_SEGMENTS = "|".join(re.escape(segment) for segment in TOKEN_SEGMENTS)
_PARAMETERS = "|".join(re.escape(name) for name in TOKEN_PARAMETERS)
_PATTERNS = [
    # /accounts/password/reset/key/<uid>-<key>/..., /password/reset/confirm/<uid>/<token>/
    (re.compile(rf"(/(?:{_TAILS})/)(?!\[redacted\])[^?#&\s\"'<>\\]+", re.IGNORECASE), r"\1"),
    (re.compile(rf"(/(?:{_SEGMENTS})/)(?!\[redacted\]){_SEGMENT_END}+", re.IGNORECASE), r"\1"),
    (
        re.compile(rf"(%2F(?:{_SEGMENTS})%2F)(?!%5Bredacted)(?:(?!%2F)[^?#&\s\"'<>\\])+",
                   re.IGNORECASE),
        r"\1",
    ),
    (re.compile(rf"([?&;](?:{_PARAMETERS})=)(?!\[redacted\])[^&#\s\"'<>\\]+", re.IGNORECASE),
     r"\1"),
    (re.compile(rf"((?:%3F|%26)(?:{_PARAMETERS})%3D)(?:(?!%26)[^&#\s\"'<>\\])+", re.IGNORECASE),
     r"\1"),
]


# What every pattern above starts with: a line without any of these has nothing to redact, and
# most (a request's own log line, with its plain path) are answered by this one search.
_MAYBE = re.compile(rf"[?&;]|%2F|%3F|%26|/(?:{_TAILS}|{_SEGMENTS})/", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every token-bearing path segment and query value replaced."""
    if _MAYBE.search(text) is None:
        return text
    for pattern, keep in _PATTERNS:
        text = pattern.sub(keep + REDACTED, text)
    return text


def _redacted(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


# What every LogRecord has before `extra=` adds to it, and what formatting adds: names logging
# itself fills (the logger's, the source file's, the thread's), never a request's text.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


_FORMATTED = frozenset({"exc_text", "stack_info"})


class RedactingFilter(logging.Filter):
    """Redact a record's message, arguments and string extras; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        attributes = record.__dict__
        # What `extra=` passed, and a traceback or stack another handler's formatter wrote out.
        for key in (attributes.keys() - RECORD_ATTRIBUTES) | _FORMATTED:
            if isinstance(attributes.get(key), str):
                attributes[key] = redact(attributes[key])
        return True
