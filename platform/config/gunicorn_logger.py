"""gunicorn's logger, without its access log (`config.webserver` passes it as --logger-class).

Every request is already logged once, as JSON, by Django's request middleware
(config.structured_logging). gunicorn's own access line is dropped by the logging
configuration (infra/docker/gunicorn-logging.json), but with a logging configuration given
gunicorn still builds its atoms for every answer — the status, the headers, the times, a dozen
formatted strings — before the logger discards them: 3 % of a kept page's CPU
(docs/scaling.md). This logger skips that work; errors and the server's own messages log as
before.
"""

from __future__ import annotations

from gunicorn import glogging


class Logger(glogging.Logger):
    def access(self, resp, req, environ, request_time) -> None:
        return None
