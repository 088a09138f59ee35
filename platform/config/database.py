"""Turn a DATABASE_URL into Django's DATABASES entry.

Written out rather than parsed by a library because the embedded server's URL carries its
unix-socket directory in `?host=`, which the common URL parsers drop.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def from_url(url: str, *, conn_max_age: int = 0) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {parsed.scheme}://")
    query = parse_qs(parsed.query)
    host = query.pop("host", [parsed.hostname or ""])[0]
    return {
        # django-tenants' backend sets search_path per request; it wraps Django's postgresql one.
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "OPTIONS": {key: values[0] for key, values in query.items()},
    }
