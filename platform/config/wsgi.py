"""WSGI entry point: the pages, under gunicorn (config.webserver.command(kind="pages")).

Websockets are served by the ASGI process (config.asgi, kind="websockets"), routed to it by
path (`/ws/`) at the load balancer. In front of Django, the same guarantees as the ASGI edge:
the client's address and scheme from the trusted proxies only (config.proxy_headers, as
uvicorn's --proxy-headers), and request bodies bounded before they are read
(config.body_limits). Each worker imports its URLconfs and compiles the templates as it loads
this module, before its first request (config.warmup).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django
from django.core.handlers.wsgi import WSGIHandler

from config.url_resolution import RememberedResolution


class PageWSGIHandler(RememberedResolution, WSGIHandler):
    """Django's WSGI handler, with each path's URL resolution remembered."""


django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application
django_application = PageWSGIHandler()

from django.conf import settings  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import reset_queries  # noqa: E402

if not settings.DEBUG:
    # It empties the log of SQL statements that only DEBUG keeps (or a test that asks for it,
    # bounded by Django at 9,000 entries), once per request and connection: 2 % of a kept
    # page's CPU (docs/scaling.md).
    request_started.disconnect(reset_queries)

from config import warmup  # noqa: E402
from config.body_limits import WSGIBodyLimitMiddleware, settings_limits  # noqa: E402
from config.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

default_max_bytes, path_limits = settings_limits()
# Imports and templates before the first request, not in it (config.warmup).
warmup.warm()

application = ProxyHeadersMiddleware(
    WSGIBodyLimitMiddleware(
        django_application, default_max_bytes=default_max_bytes, path_limits=path_limits
    ),
    settings.TRUSTED_PROXIES,
)
