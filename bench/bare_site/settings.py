"""Settings of the bare site: nothing but what Django needs to answer one URL."""

SECRET_KEY = "bench-bare-site-not-a-secret"  # noqa: S105 - signs nothing: no sessions, no forms
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
ROOT_URLCONF = "bench.bare_site.urls"
USE_TZ = True
WSGI_APPLICATION = "bench.bare_site.wsgi.application"
ASGI_APPLICATION = "bench.bare_site.asgi.application"
