"""Run the tests' OpenID Connect provider: migrate its SQLite database, create the users and
the client from the run's config file, and serve it with uvicorn on loopback.

    python -m tests.support.oidc_provider.server --port 9451 --data /tmp/idp

(the data folder holds config.json; see tests.support.oidc_provider.running_provider).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def _prepare() -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for entry in settings.USERS:
        User.objects.create_user(
            username=entry["email"],
            email=entry["email"],
            password=entry["password"],
            first_name=entry.get("name", ""),
        )
    for client in settings.CONFIG["clients"]:
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(client["redirect_uris"]),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.support.oidc_provider.settings"
    os.environ["OIDC_PROVIDER_DATA"] = str(args.data)
    os.environ["OIDC_PROVIDER_ISSUER"] = f"http://127.0.0.1:{args.port}/o"
    import django

    django.setup()
    _prepare()
    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(
        get_asgi_application(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
    )


if __name__ == "__main__":
    main()
