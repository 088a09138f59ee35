"""ASGI entry point: HTTP through Django, websockets through channels with the tenant resolved
from the Host header (django-tenants' middleware does not run for websockets).

In production this is the `ws` process (config.webserver, kind "websockets"): the load balancer
sends it `/ws/` and its health checks; the pages go to config.wsgi under gunicorn. `make dev`
and the browser tests' live server serve everything from here.

Before either: request bodies are bounded before they are read (config.body_limits), and a
websocket opened from a page that is not the tenant's own is refused before any consumer runs
(config.websocket_origin). The client's address has been resolved by the web server from the
trusted proxies (settings.TRUSTED_PROXIES, uvicorn --forwarded-allow-ips).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application

from config.asgi_handler import PageHandler  # noqa: E402

# Pages: the middleware chain and the view in one worker thread (config.asgi_handler).
django_asgi_app = PageHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.body_limits import BodyLimitMiddleware, settings_limits  # noqa: E402
from config.websocket_origin import SameHostOriginValidator  # noqa: E402
from tenants.websockets import TenantWebsocketMiddleware, websocket_urlpatterns  # noqa: E402

default_max_bytes, path_limits = settings_limits()

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(
            django_asgi_app, default_max_bytes=default_max_bytes, path_limits=path_limits
        ),
        "websocket": AllowedHostsOriginValidator(
            SameHostOriginValidator(TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
