"""What production runs with, and development does not: cached template loaders, a connection
pool, one SET search_path per request, sessions read from the cache (docs/scaling.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import json, django
from django.conf import settings
django.setup()
from django.template import engines
engine = engines["django"].engine
print(json.dumps({
    "loaders": [loader.__class__.__module__ + "." + loader.__class__.__name__
                for loader in engine.template_loaders],
    "pool": settings.DATABASES["default"]["OPTIONS"].get("pool"),
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "limit_set_calls": settings.TENANT_LIMIT_SET_CALLS,
    "sessions": settings.SESSION_ENGINE,
}))
"""


def _settings_of(module: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "DJANGO_SECRET_KEY": "settings-test-" + "x" * 40,
        "PRACTIKA_BASE_DOMAIN": "practika.test",
        # Never connected to: the settings are only read.
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PYTHONPATH": os.pathsep.join(
            [str(settings.BASE_DIR / "platform"), str(settings.BASE_DIR)]
        ),
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120,
        check=False, cwd=settings.BASE_DIR,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_caches_compiled_templates_and_pools_connections():
    production = _settings_of("config.settings.production")
    assert production["loaders"] == ["django.template.loaders.cached.Loader"]
    assert production["pool"]["max_size"] >= 1
    assert production["conn_max_age"] == 0  # the pool replaces persistent connections
    assert production["limit_set_calls"] is True
    assert production["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_development_reads_templates_afresh_on_each_request():
    development = _settings_of("config.settings.development")
    assert "django.template.loaders.cached.Loader" not in development["loaders"]
    assert development["loaders"] == [
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]


def test_a_kept_member_page_looks_up_no_unset_setting(school_a):
    """A setting that is not set is looked up through an AttributeError, each time: the
    libraries' defaults the request path reads are written out in the settings."""
    from unittest import mock

    from django.conf import LazySettings

    from tests.conftest import client_for

    client = client_for(school_a.student, school_a.host)
    visitor = client_for(None, "practika.test")
    client.get("/dashboard/")  # kept from here on, and each client's middleware loaded
    visitor.get("/")
    looked_up = LazySettings.__getattr__
    missing = []

    def getattr_(self, name):
        try:
            return looked_up(self, name)
        except AttributeError:
            missing.append(name)
            raise

    with mock.patch.object(LazySettings, "__getattr__", getattr_):
        response = client.get("/dashboard/")
        home = visitor.get("/")
    assert response.status_code == home.status_code == 200
    assert missing == [], missing
