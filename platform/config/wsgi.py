"""WSGI entry point: the pages, under gunicorn (config.webserver.command(kind="pages")).

Websockets are served by the ASGI process (config.asgi, kind="websockets"), routed to it by
path (`/ws/`) at the load balancer. In front of Django, the same guarantees as the ASGI edge:
the client's address and scheme from the trusted proxies only (config.proxy_headers, as
uvicorn's --proxy-headers), and request bodies bounded before they are read
(config.body_limits).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from config.body_limits import WSGIBodyLimitMiddleware, settings_limits  # noqa: E402
from config.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

default_max_bytes, path_limits = settings_limits()

application = ProxyHeadersMiddleware(
    WSGIBodyLimitMiddleware(
        django_application, default_max_bytes=default_max_bytes, path_limits=path_limits
    ),
    settings.TRUSTED_PROXIES,
)
