"""Settings. The environment is read here and nowhere else (see README, "Configuration")."""

import base64
import hashlib
import os
from datetime import timedelta

import dj_database_url
import pghistory
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config import paths

BASE_DIR = paths.BASE_DIR


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# Without DATABASE_URL this is the embedded development stack (`make run`, or manage.py in a second
# shell beside it), so DEBUG defaults on there; any deployment sets DATABASE_URL and gets it off.
DEBUG = env_bool("DEBUG", default=not os.environ.get("DATABASE_URL"))
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.TrackerAdminConfig",  # django.contrib.admin with the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "products",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their long cache; every other answer may carry patient data.
    "products.middleware.NoStoreMiddleware",
    # Before anything reads the URL: a NUL character in a path or query string is a 400, never a database error.
    "products.middleware.RejectNulMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "products.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication so the audit context knows the acting user.
    "products.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

# Request size limits (DRF reads API bodies through Django, so these hold there too: 413 past the size).
# The largest body the API takes (a product with its release specification) is a few kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("REQUEST_MAX_FIELDS", 1000)
# Nothing takes file uploads: a file part is refused rather than spooled to disk.
DATA_UPLOAD_MAX_NUMBER_FILES = 0
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.csp",
                "tracker.navigation.app_nav",
            ],
        },
    },
]

# PostgreSQL only (psycopg 3). Without DATABASE_URL, the embedded server `make run` starts.
DATABASE_URL = os.environ.get("DATABASE_URL") or paths.default_database_url()
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL.")
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for a username, each within
# LOGIN_LOCKOUT_MINUTES of the last, that username is locked for LOGIN_LOCKOUT_MINUTES, whatever the address
# (by username: an attacker spreading guesses over many addresses is still stopped).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# A lockout lasts LOGIN_LOCKOUT_MINUTES from the failure that caused it; more tries do not prolong it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "products.lockout.lockout_response"
# axes.W006 warns when the address is no lockout parameter. Here the username alone is the key on purpose: its
# failures are summed over every address and user agent (rotating them gains nothing), while locking an
# address would lock every user behind a hospital's NAT or proxy after five typos between them.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")  # display zone; storage is always UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
# Idle timeout: requests renew the session (products.middleware.IdleSessionMiddleware), so it expires
# SESSION_IDLE_MINUTES after the last one.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# HTTPS only, when not in DEBUG. The health check stays reachable over plain HTTP for probes inside the network.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Pages load nothing from elsewhere and run no inline code but what carries the response's nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Error reports (mails to ADMINS) show no request data and no variable values: any of them may be PHI.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.NoDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "config.error_reports.NoDataExceptionReporter"

# Encryption at rest (webhook secrets): Fernet keys, comma-separated; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off (see README).")
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]

# Email (Django 6.1 MAILERS): SMTP when EMAIL_HOST is set, the console otherwise.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# Password reset mails a link: without a mail server the reset pages would promise what cannot happen.
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST)
del EMAIL_HOST  # only MAILERS carries mail settings (the EMAIL_* settings are deprecated in Django 6.1)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tracker@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who hears of server errors and security events (e.g. a locked e-signature), comma-separated addresses.
ADMINS = env_list("ADMINS")

# Celery: Redis carries only "go look"; the work itself is recorded in PostgreSQL first.
REDIS_URL = os.environ.get("REDIS_URL") or paths.default_redis_url()
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "tracker")
CELERY_TIMEZONE = "UTC"
# Short timeouts so that a Redis outage never hangs a web request that enqueues a task.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "2"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "max_retries": 1,
    # A task a worker took and never acknowledged (the worker died: acks_late) goes back to the queue after this.
    "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 3600),
}
CELERY_TASK_PUBLISH_RETRY = False


def redis_py_url(url: str) -> str:
    """The broker URL in redis-py's spelling (kombu says redis+socket:// for a unix socket)."""
    return "unix://" + url.removeprefix("redis+socket://") if url.startswith("redis+socket://") else url


# The API's throttle counts, shared by every web process; the default cache stays per process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_py_url(REDIS_URL),
        "KEY_PREFIX": "throttle",
        "OPTIONS": {"socket_timeout": BROKER_TIMEOUT_SECONDS, "socket_connect_timeout": BROKER_TIMEOUT_SECONDS},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "products.tokens.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson writes the bytes DRF's JSONRenderer would (products/api/renderers.py), faster.
    "DEFAULT_RENDERER_CLASSES": [
        "products.api.renderers.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "products.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's parsers, refusing the NUL character PostgreSQL cannot store (a 400 naming where it was).
    "DEFAULT_PARSER_CLASSES": [
        "products.api.parsers.JSONParser",
        "products.api.parsers.FormParser",
        "products.api.parsers.MultiPartParser",
    ],
    # Documents the answers every operation of a kind shares (401, 404, 429...) from the view's shape.
    "DEFAULT_SCHEMA_CLASS": "products.api.schema.ProjectAutoSchema",
    "EXCEPTION_HANDLER": "products.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttling limits load per user (whatever token or session) and per client address; it is not access
    # control. Counts live in Redis so that every web process shares them.
    "DEFAULT_THROTTLE_CLASSES": ["products.api.throttles.UserThrottle", "products.api.throttles.AddressThrottle"],
    # The client address is the one the trusted proxies in front of us saw (X-Forwarded-For), never one a
    # client may claim for itself.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0),
}
API_THROTTLE_RATES = {
    "user": os.environ.get("API_THROTTLE_USER_RATE", "600/minute"),
    "address": os.environ.get("API_THROTTLE_ADDRESS_RATE", "1200/minute"),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = API_THROTTLE_RATES
SPECTACULAR_SETTINGS = {
    # The codes of 403 and 409 bodies, read from the domain errors (products.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "products.api.schema.document_error_codes",
        "tracker.api.schema.timeline_detail_any_of",
    ],
    "TITLE": "Vein-to-vein tracker API",
    "DESCRIPTION": "Chain of identity, chain of custody and patient monitoring for cell therapy products.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served by the project itself: the docs work offline, nothing comes from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # Several models have a `kind`: name each enum so the schema stays unambiguous.
    "ENUM_NAME_OVERRIDES": {
        "FacilityKindEnum": "products.choices.FacilityKind",
        "StepKindEnum": "products.choices.StepKind",
        "CheckKindEnum": "products.choices.CheckKind",
        "ReminderKindEnum": "tracker.choices.ReminderKind",
        "InterventionKindEnum": "tracker.choices.InterventionKind",
        "TimelineEventKindEnum": "tracker.timeline.TimelineKind",
        "SourceEnum": "products.choices.Source",
        "CheckSourceEnum": "tracker.choices.CheckSource",
        "HoldKindEnum": "products.choices.HoldKind",
        "HoldStatusEnum": "products.choices.HoldStatus",
        "HoldDecisionEnum": "products.choices.HoldDecision",
        # The timeline's details repeat these under other field names: the names they have always had.
        "OrderStatusEnum": "products.choices.CoiStatus",
        "BatchStatusEnum": "products.choices.BatchStatus",
        "ReminderStatusEnum": "tracker.choices.ReminderStatus",
        # A follow-up visit's `gvhd_response` and the timeline's GVHD `response`: one set, one name.
        "GvhdResponseEnum": "tracker.choices.GvhdResponse",
        # Allogeneic donors (21 CFR 1271 subpart C): one name per choice set, whatever field carries it.
        "EligibilityEnum": "products.choices.Eligibility",
        "EligibilityDecisionEnum": "products.choices.EligibilityDecision",
        "DiseaseTestEnum": "products.choices.DiseaseTest",
        "ScreeningKindEnum": "products.choices.ScreeningKind",
        "ScreeningOutcomeEnum": "products.choices.ScreeningOutcome",
        "OutcomeEnum": "tracker.choices.Outcome",  # the adverse events' (its name before donors came)
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
API_TOKEN_TTL = timedelta(days=env_int("API_TOKEN_TTL_DAYS", 90))
# The most records one export answer holds (a patient's timeline events, FHIR resources): past it, 409
# `export_too_large` (narrow the timeline with its filters). Fifteen years of follow-up is a few thousand.
EXPORT_MAX_RECORDS = env_int("EXPORT_MAX_RECORDS", 20_000)

# 21 CFR 11.10(e): history rows are written by database triggers (bulk updates and raw SQL
# included) and the triggers refuse any update or delete of a history row.
PGHISTORY_APPEND_ONLY = True
# Part 11 wants deletes on record too, not only inserts and updates.
# Triggers are (re)installed after every migrate rather than written into migrations: the audit
# triggers on auth.User would otherwise need a migration inside Django's own auth app.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
PGHISTORY_DEFAULT_TRACKERS = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Monitoring: the scan runs every minute (Celery beat); reminder horizons.
CELERY_BEAT_SCHEDULE = {
    "monitoring-scan": {
        "task": "tracker.tasks.monitoring_scan_task",
        "schedule": float(env_int("MONITORING_SCAN_SECONDS", 60)),
        # A scan that waited longer than its interval is superseded by the next one.
        "options": {"expires": float(env_int("MONITORING_SCAN_SECONDS", 60))},
    },
}
UNIT_EXPIRY_WARNING_DAYS = env_int("UNIT_EXPIRY_WARNING_DAYS", 7)
BATCH_QUARANTINE_ALERT_DAYS = env_int("BATCH_QUARANTINE_ALERT_DAYS", 14)
# A hold still open after this long is put in front of QA (a held bag may be a patient's only dose).
HOLD_OPEN_ALERT_HOURS = env_int("HOLD_OPEN_ALERT_HOURS", 24)
# A pending notification older than this was not sent at once (broker down?): the scan enqueues it again.
NOTIFICATION_REQUEUE_SECONDS = env_int("NOTIFICATION_REQUEUE_SECONDS", 30)
# Tests only (tests/loopback_settings.py and the `settings` fixture), never from the environment: lets webhooks
# reach a TLS test receiver on a loopback address. `check --deploy` reports an error while it is on.
WEBHOOK_TEST_ALLOW_LOOPBACK = False
