"""django-csp's middleware, with the policy built once per process instead of on every answer.

django-csp 4.0 builds the Content-Security-Policy header from the settings for every response:
it copies, sorts, deduplicates and joins every directive, twice (the policy and the report-only
one), after a `dataclasses.asdict` of the view's overrides. That was 5 % of a kept page's CPU
(docs/scaling.md). Without the view's overrides the header depends on the settings and on
whether this request used its nonce, so each of the two policies is built once with a
stand-in nonce, and the request's nonce is put in its place. A view that sets overrides
(`_csp_update` and the like: the LTI launch's form-action) gets django-csp's own path, and so
does a debug error page. `tests/security/test_csp_policy.py` compares the headers with
django-csp's, case by case.
"""

from __future__ import annotations

import functools
import http.client

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

# Not a character a setting's source could hold (a header value cannot carry a NUL).
_NONCE = "\x00nonce\x00"
_OVERRIDES = (
    "_csp_config", "_csp_update", "_csp_replace",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro",
)  # fmt: skip
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@functools.cache
def _policy(*, report_only: bool, with_nonce: bool) -> str:
    return build_policy(nonce=_NONCE if with_nonce else None, report_only=report_only)


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):  # tests override them
        _policy.cache_clear()


setting_changed.connect(_settings_changed)


def _excluded(request, setting: str) -> bool:
    prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
    return request.path_info.startswith(tuple(prefixes))


class CSPMiddleware(middleware.CSPMiddleware):
    def process_response(self, request, response):
        if any(getattr(response, name, None) is not None for name in _OVERRIDES) or (
            settings.DEBUG and response.status_code in _DEBUG_EXEMPT
        ):
            return super().process_response(request, response)
        nonce = getattr(request, "_csp_nonce", None)
        for header, report_only, exempt, setting in (
            (HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            policy = _policy(report_only=report_only, with_nonce=bool(nonce))
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not _excluded(request, setting)
            ):
                response[header] = policy.replace(_NONCE, nonce) if nonce else policy
        # As django-csp: a nonce asked for after the header is written raises, never goes
        # unsent.
        if nonce is None:
            request.csp_nonce = middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
