"""The image (Dockerfile + entrypoint) and compose.yaml, checked without a Docker engine.

The entrypoint runs for real with stand-ins for uvicorn, celery and python on PATH that print
their arguments, so the commands checked are the ones the image would execute. The web
servers' command lines (config.webserver) are checked as they are built: gunicorn for the
pages (`web`), uvicorn for the websockets (`ws`).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.terraform_config import load

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "infra" / "docker" / "entrypoint.sh"
WEBSERVER = ROOT / "platform" / "config" / "webserver.py"
DEPLOYMENT_DOC = (ROOT / "docs" / "deployment.md").read_text()

# The documented command of each role (docs/deployment.md) and the start of what runs.
DOCUMENTED = {
    "web": "python -m config.webserver --kind pages",
    "ws": "python -m config.webserver --kind websockets",
    "worker": "celery -A config worker --queues",
    "beat": "celery -A config beat",
}
REQUIRED = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "PRACTIKA_BASE_DOMAIN",
    "AWS_STORAGE_BUCKET_NAME",
    "DJANGO_SETTINGS_MODULE",
}
# Read by boto3 itself rather than by the settings (credentials come from the task role on ECS).
SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def settings_variables() -> set[str]:
    text = "\n".join(path.read_text() for path in (ROOT / "platform/config/settings").glob("*.py"))
    return set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', text))


def entrypoint_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", ENTRYPOINT.read_text())) | set(
        re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]*)"', WEBSERVER.read_text())
    )


def allowed_variables() -> set[str]:
    return (
        settings_variables() | entrypoint_variables() | SDK_VARIABLES | {"DJANGO_SETTINGS_MODULE"}
    )


@pytest.fixture
def fake_tools(tmp_path):
    for tool in ("uvicorn", "celery", "python"):
        script = tmp_path / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*"\n')
        script.chmod(0o755)
    return tmp_path


def run_entrypoint(fake_tools, *args, env=None) -> list[str]:
    environment = {"PATH": f"{fake_tools}:/usr/bin:/bin", **(env or {})}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return result.stdout.strip().splitlines()


@pytest.mark.parametrize("role", ["web", "ws", "worker", "beat"])
def test_each_role_runs_its_documented_command(fake_tools, role):
    (command,) = run_entrypoint(fake_tools, role)

    assert command.startswith(DOCUMENTED[role]), command
    assert f"`{DOCUMENTED[role]}" in DEPLOYMENT_DOC, f"{role} command is not documented"


def web_command(monkeypatch, kind="pages", **env) -> str:
    """What `python -m config.webserver --kind <kind>` (the entrypoint's web or ws role)
    executes."""
    from config import webserver

    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "PORT", "PRACTIKA_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return " ".join(webserver.command(kind=kind)) + " "


def test_web_serves_the_pages_under_wsgi_on_gunicorn_threads(monkeypatch):
    command = web_command(monkeypatch, WEB_CONCURRENCY="3", WEB_THREADS="6")

    assert "-m gunicorn config.wsgi:application " in command
    assert "--worker-class gthread --threads 6 " in command
    assert "--workers 3 " in command
    assert "--bind 0.0.0.0:8000 " in command
    # Django's request middleware logs each request: gunicorn's access log stays off, and
    # its logger does not even build the access line's atoms.
    assert "--access-logfile" not in command
    assert "--logger-class config.gunicorn_logger.Logger " in command
    # A socket per worker: the kernel spreads connections (tests/platform/test_webserver.py).
    assert "--reuse-port " in command


def test_ws_serves_the_websockets_under_asgi_behind_the_proxy(monkeypatch):
    command = web_command(monkeypatch, kind="websockets")

    assert "-m uvicorn config.asgi:application " in command
    assert "--proxy-headers" in command
    assert "--workers 1 " in command
    assert "--port 8001 " in command
    assert "--no-access-log" in command


def test_the_pages_application_keeps_the_edge_layers():
    # The guarantees of the ASGI edge, in front of Django under WSGI too.
    wsgi = (ROOT / "platform" / "config" / "wsgi.py").read_text()
    assert "ProxyHeadersMiddleware(" in wsgi
    assert "WSGIBodyLimitMiddleware(" in wsgi
    assert "settings.TRUSTED_PROXIES" in wsgi


@pytest.mark.parametrize(
    ("kind", "option"), [("pages", "--keep-alive"), ("websockets", "--timeout-keep-alive")]
)
def test_web_keeps_idle_connections_open_longer_than_the_load_balancer(kind, option):
    from config import webserver

    alb = (ROOT / "infra" / "terraform" / "alb.tf").read_text()
    (idle_timeout,) = re.findall(r"idle_timeout\s*=\s*(\d+)", alb)
    assert int(idle_timeout) < webserver.KEEP_ALIVE_S
    assert f"{option} {webserver.KEEP_ALIVE_S} " in " ".join(webserver.command(kind=kind)) + " "


@pytest.mark.parametrize(
    ("kind", "option"),
    [("pages", "--graceful-timeout"), ("websockets", "--timeout-graceful-shutdown")],
)
def test_web_finishes_what_it_serves_before_ecs_kills_it(kind, option):
    from config import webserver

    # ECS sends SIGKILL 30 s after SIGTERM (the task definitions keep the default stopTimeout).
    ecs = (ROOT / "infra" / "terraform" / "ecs.tf").read_text()
    web_task = ecs.split('resource "aws_ecs_task_definition" "web"')[1].split("\nresource ")[0]
    assert '"ws"' in web_task and "stopTimeout" not in web_task
    assert webserver.GRACEFUL_TIMEOUT_S < 30
    command = " ".join(webserver.command(kind=kind)) + " "
    assert f"{option} {webserver.GRACEFUL_TIMEOUT_S} " in command


@pytest.mark.parametrize("kind", ["pages", "websockets"])
def test_web_believes_x_forwarded_for_only_from_the_trusted_proxies(monkeypatch, kind):
    default = web_command(monkeypatch, kind)
    ecs = web_command(monkeypatch, kind, PRACTIKA_TRUSTED_PROXIES="10.40.0.0/16")

    # "*" let every client write its own address (uvicorn then takes the leftmost entry).
    assert "--forwarded-allow-ips 127.0.0.1,::1 " in default
    assert "--forwarded-allow-ips 10.40.0.0/16 " in ecs
    assert "*" not in default + ecs
    assert "PRACTIKA_TRUSTED_PROXIES" in settings_variables(), "Django reads the same setting"


@pytest.mark.parametrize("name", ["gunicorn-logging.json", "uvicorn-logging.json"])
def test_the_servers_log_json_lines_through_the_redacting_filter(name):
    from config import webserver

    config = json.loads((ROOT / "infra" / "docker" / name).read_text())
    handler = config["handlers"]["console"]
    assert config["formatters"][handler["formatter"]]["()"].endswith("JsonFormatter")
    assert handler["filters"] == ["redact"]
    assert config["root"]["handlers"] == ["console"]
    server = name.split("-")[0]
    assert config["loggers"][f"{server}.error"]["propagate"] is True
    # Access lines come from Django's request middleware; the server's own are warnings only.
    assert config["loggers"][f"{server}.access"]["level"] == "WARNING"
    commands = " ".join(" ".join(webserver.command(kind=k)) for k in webserver.KINDS)
    assert str(ROOT / "infra" / "docker" / name) in commands


def test_worker_queues_come_from_the_environment(fake_tools):
    (default,) = run_entrypoint(fake_tools, "worker")
    (video,) = run_entrypoint(fake_tools, "worker", env={"CELERY_QUEUES": "video"})

    assert "--queues default,billing,video" in default
    assert "--queues video " in video + " "


def test_migrate_runs_the_shared_schema_then_the_tenants(fake_tools):
    lines = run_entrypoint(fake_tools, "migrate", "--workers=4")

    assert lines == [
        "python manage.py migrate_schemas --shared --noinput",
        "python manage.py migrate_tenants --workers=4",
    ]


def test_the_default_command_is_web():
    assert 'CMD ["web"]' in DOCKERFILE
    assert 'ENTRYPOINT ["/app/infra/docker/entrypoint.sh"]' in DOCKERFILE


def test_dockerfile_is_multi_stage_slim_locked_non_root_with_static_and_healthcheck():
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.MULTILINE)) >= 2
    install = "pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock"
    assert install in DOCKERFILE
    assert "prune-packages /opt/venv/lib/python3.11/site-packages" in DOCKERFILE
    assert "imageio_ffmpeg" in DOCKERFILE
    assert not re.search(r"apt-get install[^\n]*ffmpeg", DOCKERFILE)
    assert "manage.py collectstatic" in DOCKERFILE
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"HEALTHCHECK .*\n?.*/healthz", DOCKERFILE)


def test_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_local_data_and_secrets_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".git", ".env"} <= set(ignored)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_app_and_its_stand_ins(compose):
    services = compose["services"]
    assert {"web", "ws", "proxy", "worker", "beat", "postgres", "redis", "minio", "mailpit"} <= set(
        services
    )
    for role in ("web", "ws", "worker", "beat"):
        assert services[role]["command"] == [role]
        assert services[role]["build"] == "."
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")


def test_compose_holds_no_secret_key_of_its_own(compose):
    key = compose["x-app-env"]["DJANGO_SECRET_KEY"]

    # Compose's required-variable syntax: `docker compose up` stops without one.
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", key), key
    for role in ("web", "ws", "worker", "beat", "migrate"):
        assert compose["services"][role]["environment"]["DJANGO_SECRET_KEY"] == key


def test_compose_routes_websockets_to_their_own_process_through_a_trusted_proxy(compose):
    services = compose["services"]
    proxy_conf = (ROOT / "infra" / "docker" / "compose-proxy.conf").read_text()
    (proxy_address,) = [v["ipv4_address"] for v in services["proxy"]["networks"].values()]

    assert services["proxy"]["ports"] == ["8000:8000"]
    assert "ports" not in services["web"] and "ports" not in services["ws"]
    assert services["ws"]["environment"]["PORT"] == "8001"
    assert re.search(r"location /ws/ \{\s*proxy_pass http://websockets;", proxy_conf)
    assert "server ws:8001;" in proxy_conf and "server web:8000;" in proxy_conf
    assert "$proxy_add_x_forwarded_for" in proxy_conf
    # The app believes X-Forwarded-For from the proxy alone.
    for role in ("web", "ws"):
        assert services[role]["environment"]["PRACTIKA_TRUSTED_PROXIES"] == proxy_address


@pytest.mark.parametrize("role", ["web", "ws", "worker", "beat"])
def test_compose_variables_are_settings_the_app_reads(compose, role):
    names = set(compose["services"][role]["environment"])

    assert names - allowed_variables() == set(), "set in compose.yaml but read by nothing"
    assert REQUIRED - names == set(), "required by production settings"


def test_ecs_task_variables_match_compose_and_the_settings(compose):
    tf = load()
    names = {item["name"] for item in tf["locals"]["app_environment"]}
    secrets = re.findall(r'"([A-Z][A-Z0-9_]+)"', str(tf["locals"]["app_secrets"]))
    names |= set(secrets)

    assert names - allowed_variables() == set()
    assert REQUIRED - names == set()
    # Compose stands in for the same production configuration (local endpoints aside).
    local_only = {
        "AWS_S3_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PRACTIKA_PUBLIC_SCHEME",
        "PRACTIKA_PUBLIC_PORT",
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_USE_TLS",
    }
    compose_names = set(compose["services"]["web"]["environment"]) - local_only
    assert compose_names - names == set()


def test_the_variable_scan_finds_what_settings_read():
    # Guards the regex above: if it silently matched nothing, the checks would pass vacuously.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "AWS_S3_REGION_NAME"} <= (
        settings_variables()
    )
    assert os.path.exists(ENTRYPOINT)


def test_the_image_keeps_the_botocore_model_of_every_client_the_platform_creates():
    # infra/docker/prune-packages.sh removes every other service's model from the image, where
    # a client for one of them would fail only in production (UnknownServiceError).
    script = (ROOT / "infra" / "docker" / "prune-packages.sh").read_text()
    kept = set(re.search(r'BOTOCORE_SERVICES="([^"]*)"', script).group(1).split())
    created = set()
    for folder in ("platform", "learning", "tenants", "billing", "analytics"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            created |= set(re.findall(r"""boto3\.client\(\s*["']([\w-]+)["']""", text))
            assert "boto3.resource(" not in text, path  # boto3's resource models go too
    assert {"s3", "cloudwatch"} <= created  # the storage module's and the queue metric's
    # Production sends through anymail's SES backend, a client of the SES v2 API; its webhook
    # confirms the SES events topic's subscription through SNS.
    import anymail.backends.amazon_ses
    import anymail.webhooks.amazon_ses

    production = (ROOT / "platform" / "config" / "settings" / "production.py").read_text()
    assert '"anymail.backends.amazon_ses.EmailBackend"' in production
    assert '"sesv2"' in Path(anymail.backends.amazon_ses.__file__).read_text()
    assert 'get_boto_client("sns"' in Path(anymail.webhooks.amazon_ses.__file__).read_text()
    assert created | {"sesv2", "sns"} <= kept, created | {"sesv2", "sns"}


def test_ci_installs_the_runtime_lock_with_its_hashes_and_holds_its_weight():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bench/runtime_image.py --fail-above 800" in ci
    bench = (ROOT / "bench" / "runtime_image.py").read_text()
    assert re.search(r'"--no-deps",\s*"--require-hashes",', bench)
    assert 'str(ROOT / "requirements.lock")' in bench
    assert "infra/docker/prune-packages.sh" in bench
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        requirements = re.findall(r"^\S+==\S+(.*?)(?=^\S|\Z)", text, re.M | re.S)
        assert len(requirements) == text.count("=="), lock
        assert all("--hash=sha256:" in entry for entry in requirements), lock
