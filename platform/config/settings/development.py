"""Local development: `make dev`. Embedded PostgreSQL unless DATABASE_URL is set."""

from config import database, embedded_db
from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASE_URL, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
PUBLIC_SCHEME = env.str("PRACTIKA_PUBLIC_SCHEME", default="http")
PUBLIC_PORT = env.str("PRACTIKA_PUBLIC_PORT", default=":8000")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_SCHEME
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)

if not DATABASE_URL:
    DATABASES = {
        "default": database.from_url(embedded_db.url(embedded_db.start(stop_on_exit=False)))
    }
