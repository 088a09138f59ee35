"""The production settings' response headers, read off real pages in a process of their own
(config.settings.production with the environment a deployment gives it, on the test
database): the Content Security Policy allows no inline script and no framing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.support import e2e_server

ROOT = Path(__file__).resolve().parents[2]
BASE_DOMAIN = "practika.example"

# Runs in the child: a page of the public site and one of a tenant's host, over "https".
# Static files are collected into the image at build time; the probe has no manifest, so
# only their storage is swapped for one that needs none.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
out = {}
with override_settings(STORAGES=storages):
    for name, host in (("public", "practika.example"), ("tenant", "school-a.practika.example")):
        response = Client().get("/accounts/login/", HTTP_HOST=host, secure=True)
        out[name] = {"status": response.status_code, "headers": dict(response.headers),
                     "body": response.content.decode()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_pages(schools, django_db_blocker):
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
        # The tenant's host must exist under the production base domain for the probe.
        from tenants.models import Domain

        domain, created = Domain.objects.get_or_create(
            domain=f"school-a.{BASE_DOMAIN}", defaults={"tenant": schools.a.tenant,
                                                         "is_primary": False},
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "production-headers-test-" + "y" * 40,
        "PRACTIKA_BASE_DOMAIN": BASE_DOMAIN,
        "DATABASE_URL": database,
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
    }
    env.pop("REDIS_URL", None)
    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )
    finally:
        if created:
            with django_db_blocker.unblock():
                domain.delete()
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _policy(page: dict) -> dict[str, list[str]]:
    header = page["headers"].get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("host", ["public", "tenant"])
def test_production_pages_send_a_policy_without_inline_script(production_pages, host):
    page = production_pages[host]
    assert page["status"] == 200
    policy = _policy(page)

    assert policy["default-src"] == ["'self'"]
    script = policy["script-src"]
    assert "'self'" in script
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    # django-csp adds a nonce only when a template asks for one; none needs it.
    assert [value for value in script if not value.startswith("'nonce-")] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert f"wss://*.{BASE_DOMAIN}" in policy["connect-src"]
    # Every script the page loads is a file of our own.
    assert "<script" in page["body"]
    assert "<script>" not in page["body"]


@pytest.mark.parametrize("host", ["public", "tenant"])
def test_production_pages_send_the_hardening_headers(production_pages, host):
    headers = production_pages[host]["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
