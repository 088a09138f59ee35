"""The test suite: `make test`. Embedded PostgreSQL unless DATABASE_URL is set."""

from config import database, embedded_db
from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR, DATABASE_URL, env

SECRET_KEY = "test-only-not-secret-" + "x" * 40
DEBUG = False
BASE_DOMAIN = "practika.test"
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", "localhost", ".localhost", "127.0.0.1"]
PUBLIC_SCHEME = "http"
PUBLIC_PORT = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# Django's test set-up puts locmem in EMAIL_BACKEND itself; tests of the suppression list put
# tenants.email.backend back in front of it (tests/tenants/test_email_suppression.py).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PRACTIKA_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "config.cache_keys.make_key",
        "REVERSE_KEY_FUNCTION": "config.cache_keys.reverse_key",
    }
}
MEDIA_ROOT = str(DATA_DIR / "test-media")
# From the environment too: a worker process started by a test must read the test's folder.
PRIVATE_MEDIA_ROOT = env.str(
    "PRACTIKA_PRIVATE_MEDIA_ROOT", default=str(DATA_DIR / "test-private-media")
)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_RESULT_BACKEND = None
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if not DATABASE_URL:
    DATABASES = {
        "default": database.from_url(embedded_db.url(embedded_db.start(stop_on_exit=False)))
    }

# The tests' own OpenID Connect provider runs on loopback over http (tests/support/oidc_provider).
PRACTIKA_SSO_ALLOW_PRIVATE_ISSUERS = True
