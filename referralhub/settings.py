"""ReferralHub settings: everything that differs between machines comes from the environment.

Development reads the `.env` file `make` writes once (DEBUG on, a key of its own; SQLite in the
project folder). Production is `DEBUG=false` and then refuses to start without a real `SECRET_KEY`.
"""

import ipaddress
import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from referralhub.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The environment wins over the file. ENV_FILE names another file (/dev/null: none at all).
environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-dev-only-referralhub-key-never-use-in-production"
SECRET_KEY: str = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 32 characters when DEBUG is off."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "referralhub",  # before django_tasks_db: its db_worker command wraps the library's
    "webhooks",
    "dashboard",
    "referralhub.alerts",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "referralhub.health.HealthCheckMiddleware",  # first: see its docstring
    "referralhub.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "referralhub.errors.MethodNotAllowedPageMiddleware",
    "referralhub.errors.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "referralhub.urls"
WSGI_APPLICATION = "referralhub.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Persistent connections: gunicorn workers reuse them; health checks catch ones the server dropped.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the database is unreachable so webhooks can answer 503 instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    # The webhook path's statements are prepared on each connection, so PostgreSQL parses and
    # plans them once rather than on every delivery (referralhub/rawsql.py): that takes binding
    # values on the server. Django binds on the client by default, for the sake of poolers in
    # transaction mode (PgBouncer before 1.21): behind one, set the variable to false.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache lives in the database too: app servers stay stateless and agree on what is cached.
# Its table is created by a migration (referralhub 0003).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "referralhub_cache",
    }
}

# Guessing a staff password (staff approve payouts), counted in the database (django-axes) so that
# every app server agrees, on the login page and the admin's alike (referralhub/accounts.py):
# - AXES_FAILURE_LIMIT wrong passwords for one username from one client address lock that pair
#   for AXES_COOLOFF_TIME. By the pair: by username alone, anyone could lock anyone out.
# - Past LOGIN_USERNAME_CEILING failures for one username from all addresses together, each
#   further try waits, from LOGIN_USERNAME_WAIT doubling up to LOGIN_USERNAME_MAX_WAIT: a guesser
#   with many addresses is slowed down, and the account's owner is delayed, never locked out.
# - Setting a new password (the reset link, the admin) lifts both.
AUTHENTICATION_BACKENDS = [
    "referralhub.accounts.UsernameSlowdownBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused try (locked, or waiting) is not a failure: otherwise it would make the lock last.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "referralhub.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "referralhub.accounts.client_address"
LOGIN_USERNAME_CEILING: int = env.int("LOGIN_USERNAME_CEILING", default=20)
LOGIN_USERNAME_WAIT = timedelta(seconds=env.int("LOGIN_USERNAME_WAIT_SECONDS", default=30))
LOGIN_USERNAME_MAX_WAIT = timedelta(seconds=env.int("LOGIN_USERNAME_MAX_WAIT_SECONDS", default=300))
# The reverse proxies in front of the app servers (addresses or networks, e.g. 127.0.0.1 for an
# nginx on the same machine, 10.0.0.0/8 for a load balancer): a request from one of them is from
# the address its X-Forwarded-For names. From anywhere else that header is ignored, since a
# client can send it. Empty: every request is from its peer's address.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(p, strict=False) for p in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXIES must list addresses or networks such as 10.0.0.0/8: {exc}"
    ) from None
# Not verbose: it printed a banner ("AXES: BEGIN …") before every manage.py command's output.
# Failed logins are still logged, with the username they were for.
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The staff's zone: pages show times in it, and the overview's days and date filters follow it.
# Stored times stay UTC.
TIME_ZONE: str = env.str("TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA time zone name such as Europe/Berlin, not {TIME_ZONE!r}."
    ) from None
USE_I18N = True
FORMAT_MODULE_PATH = "referralhub.formats"  # ISO-like dates on every page (formats/en)
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")  # for collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

# Mail, for password resets only: e.g. EMAIL_URL=smtp+tls://user:password@smtp.example.com:587.
# Without it the hub offers no reset by email (Django would log the failure and still tell the
# user "we've emailed you"); an administrator sets a new password in the admin instead.
EMAIL_URL: str = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="referralhub@localhost")

# Production hardening: `manage.py check --deploy` passes with DEBUG off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^webhooks/"]  # and /healthz, answered before this redirect
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The pages show what providers sent (names, emails, payloads): should any of it ever get past
# the templates' escaping, the browser still runs no script and loads nothing that is not ours.
# No page has an inline script, style or event handler.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],  # the admin's and Swagger UI's icons
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "referralhub.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ReferralHub API",
    "DESCRIPTION": "Referral data mirrored from FirstPromoter, InviteReferrals and "
    "Referral Rocket, and the staff actions on rewards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EventTypeEnum": "referralhub.models.events.EventType.choices",
        "PayoutBatchStatusEnum": "referralhub.models.payouts.BATCH_STATUSES",
        # A reward's batch, as the reward shows it: only the states that hold a reward.
        "HeldPayoutStatusEnum": ["open", "paid"],
    },
    # Every event the hub sends (events out), in the document's `webhooks`, which OpenAPI 3.1 has.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "referralhub.api.schema.nullable_as_openapi_3_1",
        "referralhub.api.schema.describe_authentication",
    ],
    "WEBHOOKS": [
        f"referralhub.api.event_schema.{name}"
        for name in (
            "PROMOTER_CREATED",
            "PROMOTER_UPDATED",
            "LEAD_CREATED",
            "LEAD_UPDATED",
            "LEAD_CONVERTED",
            "LEAD_CANCELLED",
            "REWARD_CREATED",
            "REWARD_APPROVED",
            "REWARD_DENIED",
            "REWARD_FULFILLED",
            "REWARD_PAID",
            "CONVERSION_CREATED",
            "DELIVERY_FAILED",
        )
    ],
}

# Webhooks: the largest body a provider may send; bigger ones are answered 413 unread.
WEBHOOK_MAX_BODY_BYTES: int = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)


def _currency(name: str, default: str) -> str:
    """A currency code, as stored beside amounts (at most 10 characters: `Reward.currency`)."""
    code = env.str(name, default=default).strip().upper()
    if code and not (code.isascii() and code.isalpha() and len(code) <= 10):
        raise ImproperlyConfigured(f"{name} must be a currency code such as EUR, not {code!r}.")
    return code


# FirstPromoter does not say which currency its cash amounts are in: it is the account's.
FIRSTPROMOTER_CURRENCY: str = _currency("FIRSTPROMOTER_CURRENCY", "USD")
FIRSTPROMOTER_API_URL: str = env.str(
    "FIRSTPROMOTER_API_URL", default="https://api.firstpromoter.com/api/v2/company"
).rstrip("/")
# InviteReferrals' purchaseValue is whatever the company's own page passed, in its own currency,
# which the webhook does not name. Empty: amounts are shown as "(no currency)".
INVITEREFERRALS_CURRENCY: str = _currency("INVITEREFERRALS_CURRENCY", "")

# Events out (docs/events.md). Hosts listed here may have private addresses and plain http: a
# receiver on the same machine or network. Every other URL must be https to a public address.
EVENTS_ALLOWED_HOSTS: list[str] = [
    host.strip().lower().strip("[]") for host in env.list("EVENTS_ALLOWED_HOSTS", default=[])
]
EVENTS_TIMEOUT_SECONDS: float = env.float("EVENTS_TIMEOUT_SECONDS", default=15.0)
# How long another process may go on not knowing of a new subscription (see events/wanted.py).
EVENTS_SUBSCRIPTIONS_REFRESH_SECONDS: float = env.float(
    "EVENTS_SUBSCRIPTIONS_REFRESH_SECONDS", default=1.0
)
EVENTS_DISABLE_AFTER = timedelta(days=env.int("EVENTS_DISABLE_AFTER_DAYS", default=5))
EVENTS_ROTATION_GRACE = timedelta(hours=env.int("EVENTS_ROTATION_GRACE_HOURS", default=24))

# Alerts (docs/alerts.md): who hears of problems, and where the links in their messages lead.
ALERT_EMAILS: list[str] = env.list("ALERT_EMAILS", default=[])
# A Slack-compatible incoming webhook. Its path is its token: a secret, never logged or shown.
ALERT_SLACK_WEBHOOK_URL: str = env.str("ALERT_SLACK_WEBHOOK_URL", default="")
ALERT_DIGEST_HOUR: int = env.int("ALERT_DIGEST_HOUR", default=8)
if not 0 <= ALERT_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(
        f"ALERT_DIGEST_HOUR must be an hour from 0 to 23, not {ALERT_DIGEST_HOUR}."
    )
# The hub's own address, e.g. https://hub.example.com, for links in alerts (no trailing slash).
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

# LOG_FORMAT=json writes one JSON object per line (python-json-logger); every record carries the
# request's id (referralhub/logs.py), "-" outside requests.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "referralhub.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Only through the root's handler: Django's own (DEBUG only) printed each line twice.
        "django": {"handlers": [], "level": "INFO"},
        # "Watching for file changes with StatReloader", from runserver and the task worker alike.
        "django.utils.autoreload": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        # Its debug lines name each request's path, which for a webhook URL is its token.
        "urllib3": {"level": "INFO"},
    },
}

# Error tracking (referralhub/sentry.py): only with a DSN, and with secrets scrubbed.
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
init_sentry(SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="") or None)


# Background work: Django's tasks framework (the django-tasks backport of Django 6's django.tasks).
# The database backend keeps the queue in the app's own database, so that a task enqueued inside a
# transaction exists exactly when that transaction commits (referralhub/background.py), and
# `manage.py db_worker` runs it. A broker-backed backend (django-tasks-rq, or a Celery one) plugs in
# through TASKS_BACKEND when one database is no longer enough.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}
# A task still marked running this long after it started belongs to a worker that died: the next
# worker to start puts it back in the queue (see referralhub/management/commands/db_worker.py).
TASKS_ABANDONED_AFTER = timedelta(minutes=env.int("TASKS_ABANDONED_AFTER_MINUTES", default=15))

# Days the inbox keeps processed and ignored deliveries (`manage.py prune_webhooks`, run daily).
WEBHOOK_RETENTION_DAYS: int = env.int("WEBHOOK_RETENTION_DAYS", default=90)
# Days events out and their attempts are kept once delivered (the same command); the inbox's
# period unless set.
EVENTS_RETENTION_DAYS: int = env.int("EVENTS_RETENTION_DAYS", default=WEBHOOK_RETENTION_DAYS)

# The bearer token Prometheus sends to /metrics (referralhub/metrics.py); empty: /metrics is 404.
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")

# FirstPromoter's API (webhooks/providers/firstpromoter/api.py): its documented limit per account,
# which every worker shares; seconds to wait for an answer; how long a decision the API could not
# take is retried before it is shown to staff as failed.
FIRSTPROMOTER_API_REQUESTS_PER_MINUTE: int = env.int(
    "FIRSTPROMOTER_API_REQUESTS_PER_MINUTE", default=400
)
FIRSTPROMOTER_API_TIMEOUT: float = env.float("FIRSTPROMOTER_API_TIMEOUT", default=30.0)
FIRSTPROMOTER_PUSH_RETRY_FOR = timedelta(
    hours=env.int("FIRSTPROMOTER_PUSH_RETRY_HOURS", default=26)
)
