"""WSGI entry point of the bare site: gunicorn's sync workers (the ceiling), and the web
command when it serves WSGI."""

import os

from django.core.wsgi import get_wsgi_application

# Whatever the environment says: this module is the bare site, never Practika.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_site.settings"
application = get_wsgi_application()
