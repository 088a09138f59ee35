"""Production (AWS ECS Fargate behind an ALB). Secrets come from the environment only.

Required: DJANGO_SECRET_KEY, PRACTIKA_BASE_DOMAIN, DATABASE_URL; in a real deployment also
REDIS_URL and AWS_STORAGE_BUCKET_NAME (infra/terraform sets them all; docs/deployment.md).
https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
"""

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    AWS_CLOUDFRONT_KEY,
    AWS_CLOUDFRONT_KEY_ID,
    AWS_STORAGE_BUCKET_NAME,
    CELERY_BEAT_SCHEDULE,
    DATABASES,
    MIDDLEWARE,
    PRACTIKA_MEDIA_CDN_DOMAIN,
    QUEUE_METRICS_BEAT_SCHEDULE,
    STORAGES,
    env,
)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
BASE_DOMAIN = env.str("PRACTIKA_BASE_DOMAIN")
# The apex is the public site, every tenant is a subdomain of it.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])
# Behind the load balancer links are https:// without a port; compose.yaml overrides both.
PUBLIC_SCHEME = env.str("PRACTIKA_PUBLIC_SCHEME", default="https")
PUBLIC_PORT = env.str("PRACTIKA_PUBLIC_PORT", default="")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_SCHEME

# --- Database -------------------------------------------------------------------------------
# A pool of open connections per process (Django's psycopg pool) instead of a connection per
# request. django-tenants sets search_path on every connection it takes from the pool before
# its first query (the flag that limits SET calls is cleared on close), so a pooled connection
# never runs a query in the previous request's schema (tests/platform/test_db_pool.py).
# Persistent connections (CONN_MAX_AGE) cannot be combined with the pool. The image's worker,
# beat and migrate roles turn it off (infra/docker/entrypoint.sh: a prefork worker must not
# inherit its parent's pool) and may use DJANGO_CONN_MAX_AGE instead.
# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
if DATABASES:
    if env.bool("DJANGO_DB_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DJANGO_DB_POOL_MIN", default=1),
            "max_size": env.int("DJANGO_DB_POOL_MAX", default=12),
            # A request waits its turn for a connection rather than failing while the client
            # (and the load balancer) would still wait for its answer.
            "timeout": env.int("DJANGO_DB_POOL_TIMEOUT", default=25),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- HTTPS ----------------------------------------------------------------------------------
# TLS ends at the load balancer, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Cookies stay host-only (no SESSION_COOKIE_DOMAIN): one tenant's subdomain never receives
# another's session; logins cross hosts through the signed handover token instead.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=[f"https://{BASE_DOMAIN}", f"https://*.{BASE_DOMAIN}"],
)

# --- Content Security Policy (django-csp) ---------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html
# Browsers upload straight to the media bucket and play media from it (or from its CDN), so
# those origins are allowed for connect/media/img. Inline scripts need the request's nonce.
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="")
MEDIA_ORIGINS = env.list("PRACTIKA_CSP_MEDIA_ORIGINS", default=[])
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_ORIGINS.append(f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com")
    if AWS_S3_REGION_NAME:
        MEDIA_ORIGINS.append(f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com")
# Signed CloudFront URLs play media (and posters) from the CDN: learning.storage.
if PRACTIKA_MEDIA_CDN_DOMAIN:
    if not (AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY):
        raise ImproperlyConfigured(
            "PRACTIKA_MEDIA_CDN_DOMAIN needs AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY "
            "(the key pair that signs media URLs)."
        )
    MEDIA_ORIGINS.append(f"https://{PRACTIKA_MEDIA_CDN_DOMAIN}")
STATIC_ORIGINS = [origin for origin in [env.str("PRACTIKA_STATIC_ORIGIN", default="")] if origin]
MIDDLEWARE = [*MIDDLEWARE, "config.csp_policy.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, *STATIC_ORIGINS],
        "style-src": [SELF, *STATIC_ORIGINS],
        "img-src": [SELF, "data:", "blob:", *STATIC_ORIGINS, *MEDIA_ORIGINS],
        "media-src": [SELF, "blob:", *MEDIA_ORIGINS],
        # wss: for the live updates (channels) on the tenant's own host.
        "connect-src": [SELF, f"wss://*.{BASE_DOMAIN}", f"wss://{BASE_DOMAIN}", *MEDIA_ORIGINS],
        "font-src": [SELF, *STATIC_ORIGINS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Static and media -----------------------------------------------------------------------
# Static files are collected into the image; hashed names let the CDN cache them for a year.
STATIC_URL = env.str("PRACTIKA_STATIC_URL", default="/static/")
STORAGES = {
    **STORAGES,
    # Media always lives in the private S3 bucket in production; the URLs handed to browsers
    # are presigned for five minutes (or signed CloudFront URLs when a media domain is set).
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": AWS_S3_REGION_NAME or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "custom_domain": PRACTIKA_MEDIA_CDN_DOMAIN or None,
            "cloudfront_key_id": AWS_CLOUDFRONT_KEY_ID or None,
            "cloudfront_key": AWS_CLOUDFRONT_KEY or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            # No ServerSideEncryption here: the bucket's default (KMS) applies to every object.
        },
    },
    "staticfiles": {"BACKEND": "config.static_storage.StaticFilesStorage"},
}

# --- Email (Amazon SES through django-anymail) ----------------------------------------------
# https://anymail.dev/en/stable/esps/amazon_ses/ : the SES v2 API with the task role's
# credentials; no SMTP user. compose.yaml delivers over SMTP to mailpit instead
# (DJANGO_EMAIL_BACKEND). Suppressed addresses are dropped before either (base.py).
PRACTIKA_EMAIL_DELIVERY_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="anymail.backends.amazon_ses.EmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)  # noqa: F405

# --- Celery ---------------------------------------------------------------------------------
# Keep Django's JSON log handler: Celery would otherwise replace the root logger's handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queue depth to CloudWatch (config.queue_metrics): ECS scales the workers on it.
PRACTIKA_QUEUE_METRICS = env.bool("PRACTIKA_QUEUE_METRICS", default=True)
PRACTIKA_QUEUE_METRICS_REGION = env.str(
    "PRACTIKA_QUEUE_METRICS_REGION",
    default=env.str("AWS_REGION", default=AWS_S3_REGION_NAME or "us-east-1"),
)
if PRACTIKA_QUEUE_METRICS:
    CELERY_BEAT_SCHEDULE = CELERY_BEAT_SCHEDULE | QUEUE_METRICS_BEAT_SCHEDULE

# --- Errors (optional Sentry) ---------------------------------------------------------------
# Imported only when configured, so the image runs without the SDK installed.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )
