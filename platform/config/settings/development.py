"""Local development: `make dev`. Embedded PostgreSQL unless DATABASE_URL is set.

`make dev` (config.devserver) starts the embedded server once and passes its URL to the web
server and the worker in DATABASE_URL, so only a bare `manage.py` call starts it from here.
"""

from config import database, dev_logging, embedded_db
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    BASE_DOMAIN,
    CELERY_BEAT_SCHEDULE,
    DATABASE_URL,
    TEMPLATES,
    env,
)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
PUBLIC_SCHEME = env.str("PRACTIKA_PUBLIC_SCHEME", default="http")
PUBLIC_PORT = env.str("PRACTIKA_PUBLIC_PORT", default=":8000")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_SCHEME
# Bare loopback addresses serve the public site too (handy for curl and health checks).
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}", "127.0.0.1", "[::1]"]
)
# Emails and requests as readable lines in make dev's terminal (config.dev_logging).
PRACTIKA_EMAIL_DELIVERY_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="config.dev_logging.LoggingEmailBackend"
)
LOGGING = dev_logging.LOGGING
# The lease watchdog (learning.jobs) once a minute rather than every 15 s: the worker's
# terminal lines are for the developer's own tasks.
CELERY_BEAT_SCHEDULE = CELERY_BEAT_SCHEDULE | {
    "learning-lapsed-jobs-requeue": {
        "task": "learning.lapsed_jobs_requeue",
        "schedule": 60,
        "options": {"expires": 60},
    },
}

# WhiteNoise serves static files straight from the finders, re-reading them on each request:
# no collectstatic while developing. https://whitenoise.readthedocs.io/en/stable/django.html
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Django caches compiled templates even with DEBUG; only runserver's autoreloader clears that
# cache, and `make dev` runs uvicorn. Uncached loaders show a template edit on the next request.
TEMPLATES = [
    {
        **TEMPLATES[0],
        "APP_DIRS": False,
        "OPTIONS": {
            **TEMPLATES[0]["OPTIONS"],
            "loaders": [
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ],
        },
    }
]

if not DATABASE_URL:
    DATABASES = {
        "default": database.from_url(embedded_db.url(embedded_db.start(stop_on_exit=False)))
    }
