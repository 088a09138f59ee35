"""Local playback tokens: what a presigned GET URL is in S3 mode — a signed, short-lived grant
of one key, bound to the tenant whose host serves it (learning.storage.views.signed_media)."""

from __future__ import annotations

import time

from django.core import signing
from django.db import connection

from learning.storage.errors import KeyRefused
from learning.storage.keys import check_key

MEDIA_TOKEN_SALT = "practika.storage.media"  # noqa: S105 - a namespace, not a secret


def _now() -> float:
    return time.time()


def media_token(key: str, expires_s: int, *, filename: str | None = None) -> str:
    """A signed token naming `key`, the current tenant and an expiry time; with `filename`,
    the object is served as a download under that name (S3's ResponseContentDisposition)."""
    payload = {"k": key, "t": str(connection.tenant.public_id), "e": int(_now()) + expires_s}
    if filename:
        payload["f"] = filename
    return signing.dumps(payload, salt=MEDIA_TOKEN_SALT, compress=True)


def media_token_filename(token: str) -> str | None:
    """The download name a (genuine) token carries, if any."""
    try:
        return signing.loads(token, salt=MEDIA_TOKEN_SALT).get("f")
    except signing.BadSignature:
        return None


def media_token_key(token: str) -> str | None:
    """The key a playback token grants, if it is genuine, unexpired and for this tenant."""
    try:
        payload = signing.loads(token, salt=MEDIA_TOKEN_SALT)
    except signing.BadSignature:
        return None
    tenant = getattr(connection, "tenant", None)
    if payload.get("t") != str(getattr(tenant, "public_id", "")) or payload["e"] < _now():
        return None
    try:
        return check_key(payload["k"])
    except KeyRefused:
        return None
