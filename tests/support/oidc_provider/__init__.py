"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit with OIDC
on, as a process of its own (a Django project of its own: settings, urls, a claims validator,
a login page), on a port of the tests' own range.

`running_provider(...)` writes the run's users and client to its data folder, starts it, waits
for its discovery document and stops it afterwards. Each user's address is `email_verified`
only if the test says so; the RSA key that signs ID tokens is made when the process starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The ports this provider may take (the SSO tests' range).
PORTS = range(9451, 9500)


@dataclass(frozen=True)
class ProviderUser:
    email: str
    password: str
    verified: bool = True
    name: str = ""


@dataclass
class RunningProvider:
    port: int
    data: Path
    client_id: str
    secret: str

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/o"

    def log(self) -> str:
        path = self.data / "idp.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORTS.start}-{PORTS.stop - 1}.")


@contextmanager
def running_provider(
    *,
    data: Path,
    users: list[ProviderUser],
    redirect_uris: list[str],
    client_id: str = "practika-test",
    secret: str = "practika-test-secret",  # noqa: S107
):
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.json").write_text(
        json.dumps(
            {
                "users": [user.__dict__ for user in users],
                "clients": [
                    {"client_id": client_id, "secret": secret, "redirect_uris": redirect_uris}
                ],
            }
        )
    )
    port = _free_port()
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    with (data / "idp.log").open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.oidc_provider.server",
                "--port",
                str(port),
                "--data",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    provider = RunningProvider(port=port, data=data, client_id=client_id, secret=secret)
    try:
        deadline = time.monotonic() + 60
        discovery = f"{provider.issuer}/.well-known/openid-configuration"
        while True:
            try:
                urllib.request.urlopen(discovery, timeout=2)  # noqa: S310 (loopback)
                break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"The OIDC provider did not start.\n{provider.log()}"
                    ) from error
                time.sleep(0.3)
        yield provider
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
