"""Finding 10: request logs carried the tokens that some URLs hold as their credential
(invitation, upload, unsubscribe, join, handover, signed media, password reset). Whoever
reads the logs could use them. Now every log line has them replaced with `[redacted]`: our
JSON request log, Django's own loggers (django.request), and uvicorn's access log under the
log configurations the servers really use (infra/docker/uvicorn-logging.json in the image,
config/uvicorn-dev-logging.json under `make dev`).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config import devserver
from tests.conftest import client_for
from tests.support import e2e_server
from tests.support.edge_server import Browser, WebServer, web_server

ROOT = Path(__file__).resolve().parents[2]
IMAGE_LOG_CONFIG = ROOT / "infra" / "docker" / "uvicorn-logging.json"

pytestmark = pytest.mark.django_db


def token_urls(secret: str) -> list[tuple[str, str]]:
    """(method, path) of every kind of URL that carries a credential, holding `secret`."""
    return [
        ("GET", f"/invitations/{secret}/"),
        ("POST", f"/api/v1/invitations/{secret}/accept/"),
        ("GET", f"/join/{secret}/"),
        ("GET", f"/auth/handover/?t={secret}&next=/"),
        ("GET", f"/media-signed/{secret}/"),
        ("PUT", f"/uploads/{secret}/parts/1"),
        ("GET", f"/api/v1/notifications/unsubscribe/{secret}/"),
        ("GET", f"/accounts/password/reset/key/1-{secret}/"),
        ("GET", f"/accounts/confirm-email/{secret}/"),
        ("GET", f"/recordings/x.mp4?X-Amz-Signature={secret}&X-Amz-Credential={secret}"),
    ]


@pytest.fixture
def configured_log():
    """What the configured console handler (config.settings LOGGING) writes meanwhile."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream.getvalue
    handler.setStream(previous)


def test_request_and_django_logs_never_carry_a_token(school_a, configured_log):
    secret = f"SeCrEt{uuid.uuid4().hex}"
    client = client_for(None, school_a.host)

    for method, path in token_urls(secret):
        client.generic(method, path)
    # Django's logger too: a 404 on a signed media URL logs "Not Found: <path>".
    logging.getLogger("django.request").warning("Not Found: %s", f"/media-signed/{secret}/")

    lines = configured_log().splitlines()
    assert len(lines) >= len(token_urls(secret))
    assert all(secret not in line for line in lines), [line for line in lines if secret in line]
    assert sum("[redacted]" in line for line in lines) >= len(token_urls(secret))


def _uvicorn(database: str, data: Path, log_config: Path, *extra: str) -> tuple[WebServer,
                                                                               subprocess.Popen]:
    port = e2e_server.free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development", "DJANGO_DEBUG": "0",
        "DATABASE_URL": database, "PRACTIKA_BASE_DOMAIN": e2e_server.BASE_DOMAIN,
        "PRACTIKA_MEDIA_ROOT": str(data / "media"),
        "PRACTIKA_PRIVATE_MEDIA_ROOT": str(data / "private-media"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with (data / "web.log").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--lifespan", "off", "--log-config", str(log_config), *extra],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return WebServer(port=port, data=data), process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                e2e_server._stop(process)
                raise RuntimeError((data / "web.log").read_text()) from None
            time.sleep(0.3)


@pytest.mark.parametrize(("log_config", "extra"), [
    (devserver.LOG_CONFIG, ()),  # make dev: uvicorn's access log, in its own format
    (IMAGE_LOG_CONFIG, ("--access-log",)),  # the image: JSON lines (access log level WARNING)
], ids=["make-dev", "image"])
def test_the_web_servers_logs_never_carry_a_token(
    schools, django_db_blocker, tmp_path, log_config, extra
):
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    secret = f"SeCrEt{uuid.uuid4().hex}"
    server, process = _uvicorn(database, tmp_path, log_config, *extra)
    try:
        browser = Browser(server, server.host(schools.a.tenant.slug))
        for method, path in token_urls(secret):
            browser.request(method, path)
        time.sleep(0.5)
    finally:
        e2e_server._stop(process)

    log = server.log.read_text(errors="replace")
    requests = [line for line in log.splitlines() if "/invitations/" in line]
    assert requests, log[-3000:]
    assert secret not in log, [line for line in log.splitlines() if secret in line]
    assert "[redacted]" in log


def test_the_pages_server_logs_never_carry_a_token(schools, django_db_blocker, tmp_path):
    # gunicorn with the production command line and its JSON log configuration
    # (infra/docker/gunicorn-logging.json), serving config.wsgi.
    with django_db_blocker.unblock():
        database = e2e_server.database_url(connection.settings_dict)
    secret = f"SeCrEt{uuid.uuid4().hex}"
    with web_server(database=database, data=tmp_path, trusted_proxies="127.0.0.1",
                    kind="wsgi") as server:
        browser = Browser(server, server.host(schools.a.tenant.slug))
        for method, path in token_urls(secret):
            browser.request(method, path)
        time.sleep(0.5)

    log = server.log.read_text(errors="replace")
    requests = [line for line in log.splitlines() if "/invitations/" in line]
    assert requests, log[-3000:]
    assert secret not in log, [line for line in log.splitlines() if secret in line]
    assert "[redacted]" in log
    assert '"logger": "gunicorn.error"' in log, "gunicorn's own lines are JSON too"


def test_the_filter_redacts_extras_and_what_another_handler_formatted_but_not_the_record():
    from config.log_redaction import RedactingFilter

    token_path = "/invitations/secret-invite-token/"
    try:
        raise ValueError(f"no invitation at {token_path}")
    except ValueError:
        record = logging.LogRecord(
            "practika.test", logging.ERROR, __file__, 1, "GET %s", (token_path,), sys.exc_info()
        )
    record.path = token_path  # as `extra=` passes it
    logging.Formatter().format(record)  # a first handler wrote the traceback out (exc_text)
    assert "secret-invite-token" in record.exc_text

    assert RedactingFilter().filter(record)
    assert "secret-invite-token" not in record.getMessage()
    assert "secret-invite-token" not in record.path
    assert "secret-invite-token" not in record.exc_text
    assert record.name == "practika.test" and record.pathname == __file__
