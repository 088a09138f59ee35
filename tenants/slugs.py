"""Rules for tenant slugs, which become subdomains."""

from __future__ import annotations

import re

from django.utils.text import slugify

# Hosts we use or may use ourselves, and names that would mislead people.
RESERVED_SLUGS = frozenset(
    """
    www api admin static media app apps assets auth account accounts login logout signup
    billing staff support help status docs blog mail email smtp ftp cdn dev test staging
    demo-public www1 www2 ns ns1 ns2 root system practika dashboard webhooks stripe ws wss
    """.split()
)
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")


def normalize(text: str) -> str:
    return slugify(text)[:40].strip("-")


def problem(slug: str) -> str | None:
    """Why a slug cannot be used as written, or None if its form is fine."""
    if not SLUG_RE.match(slug):
        return (
            "Use 3 to 40 lowercase letters, digits or hyphens, starting and ending with a "
            "letter or digit."
        )
    if "--" in slug:
        return "Use single hyphens only."
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is reserved."
    return None
