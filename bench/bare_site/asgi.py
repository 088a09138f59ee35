"""ASGI entry point of the bare site, for a web command that serves ASGI (as Practika's)."""

import os

from django.core.asgi import get_asgi_application

# Whatever the environment says: this module is the bare site, never Practika.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_site.settings"
application = get_asgi_application()
