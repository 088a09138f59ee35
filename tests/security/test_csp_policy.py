"""config.csp_policy answers with exactly the headers django-csp's own middleware would."""

from __future__ import annotations

import pytest
from csp.constants import NONCE, NONE, SELF
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config.csp_policy import CSPMiddleware

POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/excluded/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "https://static.example"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "upgrade-insecure-requests": True,
    },
}
REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF, NONCE], "report-uri": "/csp-report/"}}


def _headers(middleware_class, path: str, *, use_nonce: bool, prepare=None) -> dict:
    request = RequestFactory().get(path)

    def view(request):
        response = HttpResponse("page")
        if use_nonce:
            str(request.csp_nonce)  # a template's {{ request.csp_nonce }}
        if prepare is not None:
            prepare(response)
        return response

    middleware = middleware_class(view)
    response = middleware(request)
    return {
        name: response.headers.get(name)
        for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
    }, request


CASES = {
    "plain": None,
    "exempt": lambda r: setattr(r, "_csp_exempt", True),
    "exempt report-only": lambda r: setattr(r, "_csp_exempt_ro", True),
    "a view's update": lambda r: setattr(r, "_csp_update", {"form-action": ["https://lms.example"]}),
    "a view's replacement": lambda r: setattr(r, "_csp_replace", {"img-src": ["https://cdn.example"]}),
    "the header already set": lambda r: r.headers.__setitem__("Content-Security-Policy", "x"),
}


@pytest.mark.parametrize("report_only", [False, True], ids=["policy", "with report-only"])
@pytest.mark.parametrize("path", ["/dashboard/", "/excluded/page/"])
@pytest.mark.parametrize("use_nonce", [False, True], ids=["no nonce", "nonce"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_headers_are_django_csps(case, use_nonce, path, report_only):
    settings = {"CONTENT_SECURITY_POLICY": POLICY}
    if report_only:
        settings["CONTENT_SECURITY_POLICY_REPORT_ONLY"] = REPORT_ONLY
    with override_settings(**settings):
        ours, our_request = _headers(CSPMiddleware, path, use_nonce=use_nonce, prepare=CASES[case])
        theirs, their_request = _headers(
            DjangoCSPMiddleware, path, use_nonce=use_nonce, prepare=CASES[case]
        )
    if use_nonce:  # each request has a nonce of its own: compare the policies around it
        ours = {k: v and v.replace(our_request._csp_nonce, "N") for k, v in ours.items()}
        theirs = {k: v and v.replace(their_request._csp_nonce, "N") for k, v in theirs.items()}
    assert ours == theirs
    if case == "plain" and path == "/dashboard/":
        assert ours["Content-Security-Policy"]
        assert ("'nonce-N'" in ours["Content-Security-Policy"]) is use_nonce


def test_a_changed_setting_changes_the_policy():
    with override_settings(CONTENT_SECURITY_POLICY=POLICY):
        before, _ = _headers(CSPMiddleware, "/", use_nonce=False)
    changed = {**POLICY, "DIRECTIVES": {**POLICY["DIRECTIVES"], "img-src": ["https://new.example"]}}
    with override_settings(CONTENT_SECURITY_POLICY=changed):
        after, _ = _headers(CSPMiddleware, "/", use_nonce=False)
    assert "https://new.example" in after["Content-Security-Policy"]
    assert "https://new.example" not in before["Content-Security-Policy"]


def test_a_nonce_asked_for_after_the_header_is_written_raises():
    from csp.exceptions import CSPNonceError

    with override_settings(CONTENT_SECURITY_POLICY=POLICY):
        _, request = _headers(CSPMiddleware, "/", use_nonce=False)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
