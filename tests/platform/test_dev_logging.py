"""`make dev`'s terminal (config.dev_logging, used by config.settings.development): one
readable line per request, and emails at INFO as text whose links can be opened. Read off a
process of its own running the development settings on the test database."""

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

PROBE = """
import django
django.setup()
from django.core import mail
from django.test import Client
client = Client(HTTP_HOST="localhost")
assert client.get("/pricing/").status_code == 200
assert client.get("/no-such-page/").status_code == 404
mail.send_mail(
    "Clara's invitation", "Open http://localhost:8000/join/abc123def456/ to join.", None,
    ["clara@example.com"],
)
"""


@pytest.fixture(scope="module")
def terminal(schools, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": database,
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
    }
    for name in ("REDIS_URL", "DJANGO_EMAIL_BACKEND", "PRACTIKA_BASE_DOMAIN"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_each_request_is_one_readable_line(terminal):
    for path, status in (("/pricing/", 200), ("/no-such-page/", 404)):
        lines = [line for line in terminal.splitlines() if path in line]
        assert len(lines) == 1, terminal
        assert f"GET {path} {status}" in lines[0]
        assert " INFO " in lines[0]
        with pytest.raises(json.JSONDecodeError):
            json.loads(lines[0])
    assert "Not Found" not in terminal


def test_an_email_is_shown_at_info_with_its_link_as_sent(terminal):
    assert "WARNING" not in terminal
    heading = next(line for line in terminal.splitlines() if "Email to" in line)
    assert " INFO " in heading
    assert "Email to clara@example.com: Clara's invitation" in heading
    assert "http://localhost:8000/join/abc123def456/" in terminal
