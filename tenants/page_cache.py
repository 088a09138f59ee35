"""Whole member pages, kept per member for as long as nothing they show has changed.

A member's busiest pages (dashboard, exercise list, inbox, an exercise, the compare page) are
mostly the same HTML from one visit to the next, and rendering them costs several times what
the request around them does. `@cached_page` keeps a view's 200 HTML answer under a key made
of everything the page can depend on:

- who and where: the tenant (its key space, config.cache_keys), the user, the full path with
  its query, the language and the time zone;
- the versions the view names (`versions`: cache keys holding a version token, such as
  learning.page_parts.VERSION_KEY, which any write to a model of learning, a membership or a
  user of the tenant changes);
- the chrome's generations (`tenants.chrome.page_generations`): the tenant's row and its
  tenant-wide parts (the billing banner), the member's own (membership, role, bell, second
  factor), the user's row; each is dropped by the same `forget_*` call that drops the cached
  chrome, so a new role, name, notification or suspension shows on the very next request;

Everything a request must decide for itself still runs on every request, in the middleware
before the view: the session, the user, the tenant's suspension and deletion notices,
membership, the second-factor rule. What varies per request inside the HTML is put back on the
way out: the CSRF token (stored as a placeholder, replaced by a fresh masked token of this
request's secret). A page is not kept when the request carries messages to show, during a
support session or impersonation, for a signed-in non-member, when the view set a cookie,
changed the session or answered anything but a 200 HTML page, or when the view says so
(`skip`). When several requests miss the same page at once, one renders it and the others
wait for it (up to RENDER_WAIT_S). Signed-out visitors share one copy of the pages that allow
it (`visitors`: the public home, the login page of tenants.views.login), keyed by the tenant's
generation on a tenant's host. A kept page keeps the headers its view set (allauth's
no-cache headers, for one), not only its HTML. Kept pages
are fresh for `SECONDS`, then shown for `STALE_SECONDS` more only while one request renders
their next copy: they carry signed media URLs (valid PRACTIKA_PLAYBACK_URL_EXPIRES_S, 300 s by
default, so a shown URL has at least three minutes left) and "3 hours ago" texts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _unmask_cipher_token,
    get_token,
)
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from tenants import chrome

# A kept page is fresh this long; for STALE_SECONDS more it is still shown while one request
# renders its next copy (the same versions: only "3 hours ago" and signed URLs age).
SECONDS = 30
STALE_SECONDS = 60
# A request that finds a page of new versions being rendered by another waits this long for it.
RENDER_WAIT_S = 3.0
# What a kept page holds (see `_answer`): a new one is kept under keys of its own, so that
# processes of two releases never read each other's.
FORMAT = 2
_MASKED_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_LONGEST_QUERY = 300
_SKIP = "_page_cache_skip"


def skip(response: HttpResponse) -> HttpResponse:
    """Do not keep this answer (it shows something no version follows)."""
    setattr(response, _SKIP, True)
    return response


def _key(request: HttpRequest, versions: tuple[str, ...], visitors: bool, vary) -> str | None:
    if request.method != "GET" or len(request.META.get("QUERY_STRING", "")) > _LONGEST_QUERY:
        return None
    storage = getattr(request, "_messages", None)
    if storage is not None and len(storage):  # messages are shown once: render them
        return None
    if not request.user.is_authenticated:
        if not visitors:
            return None
        who = "visitor"
        tokens = chrome.page_generations(tenant_id=request.tenant.pk, also=versions)
    else:
        membership = getattr(request, "membership", None)
        if membership is None or getattr(request, "impersonation", None) is not None:
            return None
        if getattr(request.user, "is_hijacked", False):
            return None
        who = str(request.user.pk)
        tokens = chrome.page_generations(
            tenant_id=request.tenant.pk, user_id=request.user.pk, also=versions
        )
    parts = [
        who,
        request.get_full_path(),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        *tokens,
        vary(request) if vary is not None else "",
    ]
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()
    return f"page:{FORMAT}:{digest}"


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.session.modified  # what the view stored must be stored on every visit
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, _SKIP, False)
    )


@functools.cache
def _csrf_placeholder() -> str:
    """Where a kept page's CSRF token goes: derived from SECRET_KEY, so the same in every
    process and not a text a member could write into a name or a title to have it replaced."""
    return "csrf-" + salted_hmac("tenants.page_cache", "csrf-placeholder").hexdigest()[:32]


def _with_placeholder(request: HttpRequest, html: str) -> str:
    """The page with every CSRF token of this request's secret replaced by the placeholder."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return html

    def swap(match: re.Match) -> str:
        token = match.group(0)
        return _csrf_placeholder() if _unmask_cipher_token(token) == secret else token

    return _MASKED_TOKEN.sub(swap, html)


def _rendered_elsewhere(key: str) -> tuple | None:
    """The page another request is rendering, once it is kept (None after RENDER_WAIT_S:
    render it here too). Without this, every request that misses at the same moment — a
    version changed, a kept page expired — renders the same page at once."""
    deadline = time.monotonic() + RENDER_WAIT_S
    while time.monotonic() < deadline:
        time.sleep(0.02)
        kept = cache.get(key)  # a miss is never copied (config.redis_cache): Redis is asked
        if kept is not None:
            return kept
        if not cache.has_key(f"{key}:rendering"):  # rendered, not kept (a refusal): render here
            return None
    return None


_CHARS = CSRF_ALLOWED_CHARS
_POSITION = {char: i for i, char in enumerate(_CHARS)}
_SUMS = tuple(_CHARS[i:] + _CHARS[:i] for i in range(len(_CHARS)))  # [a][b]: a + b, modulo
_UNBIASED = 256 - 256 % len(_CHARS)  # random bytes below this are uniform over the characters


def csrf_token(request: HttpRequest) -> str:
    """What Django's get_token answers: this request's secret under a new random mask (and the
    cookie flagged to be renewed). The mask is drawn from random bytes at once instead of by 32
    calls of secrets.choice, 30 µs of a kept page's 0.9 ms of CPU (docs/scaling.md)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None or len(secret) != CSRF_SECRET_LENGTH:
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask: list[int] = []
    while len(mask) < CSRF_SECRET_LENGTH:
        drawn = secrets.token_bytes(CSRF_SECRET_LENGTH)
        mask += [byte % len(_CHARS) for byte in drawn if byte < _UNBIASED]
    mask = mask[:CSRF_SECRET_LENGTH]
    cipher = (_SUMS[_POSITION[char]][m] for char, m in zip(secret, mask, strict=True))
    return "".join(_CHARS[m] for m in mask) + "".join(cipher)


def _answer(request: HttpRequest, kept: tuple) -> HttpResponse:
    """The kept page: (fresh until, its encoded HTML in the pieces around each CSRF token, the
    headers its view set)."""
    _, pieces, headers = kept
    body = pieces[0] if len(pieces) == 1 else csrf_token(request).encode().join(pieces)
    return HttpResponse(body, headers=headers)


# Headers of the view's answer not kept with it: recomputed for each answer.
_NOT_KEPT = frozenset({"content-length", "set-cookie"})


def cached_page(*versions: str, visitors: bool = False, vary=None):
    """Keep the view's page per member and per version of what it shows: the chrome's, and
    the tokens at the `versions` cache keys (see the module's docstring). With `visitors`,
    the page a signed-out visitor sees is kept too (one copy for all of them). `vary(request)`
    names anything else the page shows that no version follows (a text, made part of the
    key): what settings configure, for one."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            key = _key(request, versions, visitors, vary)
            if key is None:
                return view(request, *args, **kwargs)
            kept = cache.get(key)  # (fresh until, the pieces of its HTML, headers)
            if kept is not None and kept[0] > time.time():
                return _answer(request, kept)
            rendering = f"{key}:rendering"
            if not cache.add(rendering, 1, RENDER_WAIT_S):  # another request renders it
                if kept is not None:  # the same versions, only older: shown meanwhile
                    return _answer(request, kept)
                kept = _rendered_elsewhere(key)
                if kept is not None:
                    return _answer(request, kept)
            try:
                response = view(request, *args, **kwargs)
            except BaseException:
                cache.delete(rendering)
                raise

            def keep(response):
                if _keepable(request, response):
                    content = response.content.decode(response.charset)
                    headers = {
                        name: value
                        for name, value in response.headers.items()
                        if name.lower() not in _NOT_KEPT
                    }
                    html = _with_placeholder(request, content).split(_csrf_placeholder())
                    pieces = tuple(piece.encode(response.charset) for piece in html)
                    page = (time.time() + SECONDS, pieces, headers)
                    cache.set(key, page, SECONDS + STALE_SECONDS)
                cache.delete(rendering)

            if getattr(response, "is_rendered", True):
                keep(response)
            else:  # a TemplateResponse renders after the view returns
                response.add_post_render_callback(keep)
            return response

        return wrapper

    return decorator
