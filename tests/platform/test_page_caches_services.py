"""Across processes, with the production cache (Redis): a tenant suspended by one process is
refused on the very next request that another web process serves, although both had the
tenant, the member and the page chrome cached (tenants.chrome)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings as django_settings

from tenants import services
from tests.conftest import client_for
from tests.platform.conftest import _database_url

# The other web process: the same settings and the same Redis, one page, its status printed.
OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    import django
    from django.conf import settings

    django.setup()
    settings.CACHES = {"default": {**settings.CACHES["default"], **REDIS}}
    from django.test import Client

    client = Client(HTTP_HOST=sys.argv[1])
    client.cookies[settings.SESSION_COOKIE_NAME] = sys.argv[2]
    print(client.get("/dashboard/").status_code)
    """
)


def _redis_cache(url: str) -> dict:
    return {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {"near_cache": True},  # as production (config.settings.base)
    }


def _status_in_another_process(redis_url: str, host: str, session_key: str) -> int:
    script = f"REDIS = {_redis_cache(redis_url)!r}\n{OTHER_PROCESS}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": os.pathsep.join(
            [str(django_settings.BASE_DIR / "platform"), str(django_settings.BASE_DIR)]
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, host, session_key],
        env=env, capture_output=True, text=True, timeout=120, check=False,
        cwd=django_settings.BASE_DIR,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.services
def test_a_suspension_is_refused_on_the_next_request_in_another_process(
    redis_url, schools, django_db_blocker, settings
):
    settings.CACHES = {"default": {**settings.CACHES["default"], **_redis_cache(redis_url)}}
    school = schools.a
    with django_db_blocker.unblock():
        client = client_for(school.student, school.host)  # the session is committed
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert client.get("/dashboard/").status_code == 200
        assert _status_in_another_process(redis_url, school.host, session_key) == 200

        services.tenant_suspend(tenant=school.tenant, actor=school.owner, reason="unpaid")
        try:
            assert _status_in_another_process(redis_url, school.host, session_key) == 403
            assert client.get("/dashboard/").status_code == 403
        finally:
            services.tenant_reactivate(tenant=school.tenant, actor=school.owner)
        assert _status_in_another_process(redis_url, school.host, session_key) == 200


@pytest.mark.services
def test_a_new_password_signs_the_session_out_in_another_process(
    redis_url, schools, django_db_blocker, settings
):
    """The signed-in user's row is cached in Redis too (tenants.chrome.user_for_session)."""
    from tenants.models import User
    from tests.conftest import PASSWORD

    settings.CACHES = {"default": {**settings.CACHES["default"], **_redis_cache(redis_url)}}
    school = schools.a
    with django_db_blocker.unblock():
        client = client_for(school.student, school.host)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert _status_in_another_process(redis_url, school.host, session_key) == 200
        assert _status_in_another_process(redis_url, school.host, session_key) == 200  # cached

        user = User.objects.get(pk=school.student.pk)
        user.set_password("changed-in-this-process")
        user.save()
        try:
            assert _status_in_another_process(redis_url, school.host, session_key) == 302
        finally:
            user.set_password(PASSWORD)
            user.save()
