"""The pages' WSGI application (config.wsgi) on the test database, for gunicorn started with
the production command line (config.webserver, kind "pages") by tests.support.edge_server.

The settings are the live server's (tests.support.e2e_server._configure), from the data folder
and port in PRACTIKA_E2E_DATA and PRACTIKA_E2E_PORT.
"""

import os
from pathlib import Path

from tests.support import e2e_server

e2e_server._configure(Path(os.environ["PRACTIKA_E2E_DATA"]), int(os.environ["PRACTIKA_E2E_PORT"]))

from config.wsgi import application  # noqa: E402

__all__ = ["application"]
