"""Relaydesk settings: everything comes from the environment (see .env.example).

With no environment at all Relaydesk runs embedded: SQLite under ``var/``, huey on
SQLite, local-memory cache, a secret key generated once and kept under ``var/``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from relaydesk.core.env import env_bool, env_choice, env_int, env_list, env_str, env_time_zone

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("RELAYDESK_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    configured = env_str("SECRET_KEY", "")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    # Before allauth so our templates override its defaults.
    "relaydesk.web",
    "allauth",
    "allauth.account",
    "ninja",
    "relaydesk.core",
    "relaydesk.accounts",
    "relaydesk.customers",
    "relaydesk.tickets",
    "relaydesk.notifications",
    "relaydesk.sla",
    "relaydesk.reports",
    "relaydesk.mail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "relaydesk.web.middleware.UserTimeZoneMiddleware",
]

ROOT_URLCONF = "relaydesk.config.urls"
ASGI_APPLICATION = "relaydesk.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relaydesk.web.context_processors.workspace",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'relaydesk.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout + IMMEDIATE transactions: a web process and the job consumer
    # write concurrently without "database is locked" errors.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    if env_bool("DATABASE_POOL", True):
        _db["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=1),
                "max_size": env_int("DATABASE_POOL_MAX", 20, minimum=1),
            }
        }
    else:
        _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
else:
    raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or postgres://, got {_db['ENGINE']}")
DATABASES = {"default": _db}
# Threads per web process that run requests (relaydesk.config.asgi). Each holds a database
# connection while it works, so there may not be more of them than pooled connections.
WEB_THREADS = env_int("WEB_THREADS", 16, minimum=1)
_pool = _db.get("OPTIONS", {}).get("pool")
if isinstance(_pool, dict) and _pool["max_size"] < WEB_THREADS:
    raise ImproperlyConfigured(
        f"WEB_THREADS ({WEB_THREADS}) is more than DATABASE_POOL_MAX ({_pool['max_size']}): "
        "requests would wait for a connection; raise DATABASE_POOL_MAX or lower WEB_THREADS."
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and jobs -------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

HUEY: dict[str, object]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": env_str("HUEY_NAME", "relaydesk"),
        "url": REDIS_URL,
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "relaydesk",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
    }
HUEY["consumer"] = {"workers": env_int("WORKER_THREADS", 2, minimum=1), "worker_type": "thread"}

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    # Same "argon2" algorithm as Django's, smaller parameters; older hashes still verify.
    "relaydesk.accounts.hashers.RelaydeskArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tickets:queue"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "relaydesk.accounts.adapter.InviteOnlyAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True

# --- i18n and time --------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)

# --- email ----------------------------------------------------------------------------
EMAIL_BACKEND = env_choice(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend",
    (
        "django.core.mail.backends.smtp.EmailBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    ),
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Relaydesk <relaydesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- the email channel (mailboxes are configured in the admin screens) ----------------------
# The domain of the Message-IDs Relaydesk writes (<rd.…@MAIL_ID_DOMAIN>); mail carrying one of
# ours in its own Message-ID is our own mail coming back (a loop).
MAIL_ID_DOMAIN = env_str("MAIL_ID_DOMAIN", "relaydesk.invalid")
# Inbound limits, checked before a message is parsed; a bigger one is quarantined.
MAIL_MAX_BYTES = env_int("MAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=64 * 1024)
MAIL_MAX_PARTS = env_int("MAIL_MAX_PARTS", 200, minimum=1)
# Circuit breaker: at most this many mails per hour to one ticket / to one recipient.
MAIL_MAX_PER_TICKET_HOUR = env_int("MAIL_MAX_PER_TICKET_HOUR", 20, minimum=1)
MAIL_MAX_PER_RECIPIENT_HOUR = env_int("MAIL_MAX_PER_RECIPIENT_HOUR", 30, minimum=1)
# Outbound retries: attempts before a send is a permanent failure (backoff doubles from 1 minute).
MAIL_SEND_ATTEMPTS = env_int("MAIL_SEND_ATTEMPTS", 8, minimum=1)
# The key that encrypts mailbox passwords at rest (Fernet, urlsafe base64 of 32 bytes). Empty:
# derived from SECRET_KEY, so changing SECRET_KEY means re-entering mailbox passwords.
MAIL_CREDENTIALS_KEY = env_str("MAIL_CREDENTIALS_KEY", "")

# --- logging --------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"huey": {"level": "WARNING"}},
}

# --- API ------------------------------------------------------------------------------
API_PAGE_SIZE_MAX = 100
NINJA_PAGINATION_MAX_LIMIT = API_PAGE_SIZE_MAX
