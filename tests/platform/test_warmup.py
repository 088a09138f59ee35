"""A page worker imports its URLconfs and compiles its templates before its first request
(config.warmup, called by config.wsgi): the first page each gunicorn worker served used to
spend 0.85 s importing view modules, and 1 to 3 s under load."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.template import engines
from django.test import override_settings

from config import warmup

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import config.wsgi
from django.conf import settings
from django.template import engines
from django.urls import get_resolver
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "populated": [get_resolver(u)._populated
                  for u in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF)],
    "view_modules": [m for m in ("learning.exercises.views", "analytics.views", "billing.views")
                     if m in sys.modules],
    "templates": sorted(getattr(loader, "get_template_cache", {})),
}))
"""


def test_importing_the_wsgi_application_warms_the_worker():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["populated"] == [True, True]
    assert state["view_modules"] == ["learning.exercises.views", "analytics.views", "billing.views"]
    # The page chrome and the pages the load test opens first, compiled.
    assert {"base.html", "analytics/dashboard_student.html"} <= set(state["templates"])


def test_the_projects_own_templates_are_listed_and_no_installed_packages():
    names = warmup.project_template_names(engines["django"])
    assert "base.html" in names
    assert not [name for name in names if name.startswith("admin/")]  # django.contrib.admin's


CACHED_LOCMEM = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "OPTIONS": {
        "loaders": [(
            "django.template.loaders.cached.Loader",
            [("django.template.loaders.locmem.Loader", {
                "good.html": "{% if ok %}fine{% endif %}",
                "broken.html": "{% if ok %}never closed",
            })],
        )],
    },
}]


def test_a_template_that_does_not_compile_is_logged_and_the_others_still_are(
    monkeypatch, caplog
):
    with override_settings(TEMPLATES=CACHED_LOCMEM):
        monkeypatch.setattr(
            warmup, "project_template_names", lambda engine: ["broken.html", "good.html"]
        )
        with caplog.at_level(logging.ERROR, logger="config.warmup"):
            assert warmup.templates() == 1
        loader = engines["django"].engine.template_loaders[0]
        assert list(loader.get_template_cache) == ["good.html"]
    assert [r.template for r in caplog.records] == ["broken.html"]


def test_uncached_loaders_get_nothing_compiled_ahead(monkeypatch):
    uncached = [{**CACHED_LOCMEM[0], "OPTIONS": {"loaders": [
        ("django.template.loaders.locmem.Loader", {"good.html": "fine"}),
    ]}}]
    with override_settings(TEMPLATES=uncached):
        monkeypatch.setattr(warmup, "project_template_names", lambda engine: ["good.html"])
        assert warmup.templates() == 0
