"""Frontdesk settings: one module, configured by FRONTDESK_* environment variables.

Every helper raises ImproperlyConfigured naming the variable, so a typo in the
environment stops the process with one clear line instead of a half-working app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontdesk.core.config import (
    database_config,
    env_bool,
    env_int,
    env_list,
    env_str,
    frontdesk_home,
    load_dotenv_file,
    secret_key,
)

load_dotenv_file()

HOME: Path = frontdesk_home()
DEBUG: bool = env_bool("FRONTDESK_DEBUG", default=False)
SECRET_KEY: str = secret_key(HOME)
ALLOWED_HOSTS: list[str] = env_list("FRONTDESK_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env_list("FRONTDESK_CSRF_TRUSTED_ORIGINS", default=[])
REDIS_URL: str = env_str("FRONTDESK_REDIS_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "frontdesk.core",
    "frontdesk.accounts",
    "frontdesk.customers",
    "frontdesk.conversations",
    # Reactions run in this order after a commit: the SLA timers are recounted before
    # realtime tells browsers to re-fetch, so a refreshed inbox shows the new due times.
    "frontdesk.mail",
    "frontdesk.sla",
    "frontdesk.portal",
    "frontdesk.realtime",
    "frontdesk.notifications",
    "frontdesk.routing",
    "frontdesk.automation",
]

MIDDLEWARE = [
    "frontdesk.core.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "frontdesk.core.middleware.UserPreferencesMiddleware",
    "frontdesk.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "frontdesk.urls"
ASGI_APPLICATION = "frontdesk.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
            ],
        },
    },
]

DATABASES: dict[str, dict[str, Any]] = {"default": database_config(HOME)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {
    "default": {
        "BACKEND": env_str("FRONTDESK_TASK_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("pl", "Polski"),
    ("cs", "Čeština"),
    ("ru", "Русский"),
    ("id", "Bahasa Indonesia"),
    ("th", "ไทย"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Translations written for Frontdesk; .mo files are compiled by `make install`.
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
# Front-end packages come from npm (package.json and its lockfile) and are served
# straight out of node_modules; nothing third-party is copied into the repo.
NODE_MODULES: Path = Path(
    env_str(
        "FRONTDESK_NODE_MODULES",
        default=str(Path(__file__).resolve().parents[2] / "node_modules"),
    )
)
STATICFILES_DIRS = [("vendor/htmx", NODE_MODULES / "htmx.org" / "dist")]
MEDIA_URL = "media/"
MEDIA_ROOT = HOME / "media"

# Attachments larger than this are refused by the service layer, whatever the door.
MAX_ATTACHMENT_BYTES: int = env_int("FRONTDESK_MAX_ATTACHMENT_MB", default=25) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_ATTACHMENT_BYTES + 1024 * 1024

# Failed bearer-token attempts allowed per client address in one window.
API_AUTH_FAILURE_LIMIT: int = env_int("FRONTDESK_API_AUTH_FAILURE_LIMIT", default=10)
API_AUTH_FAILURE_WINDOW_S: int = env_int("FRONTDESK_API_AUTH_FAILURE_WINDOW_S", default=300)

# Finished background-task results older than this are pruned hourly.
TASK_RESULT_RETENTION_DAYS: int = env_int("FRONTDESK_TASK_RESULT_RETENTION_DAYS", default=14)

# How often the worker reads every active mailbox's IMAP folder for new mail.
MAIL_POLL_S: int = env_int("FRONTDESK_MAIL_POLL_S", default=60)

# A message larger than this is not downloaded from IMAP: it is quarantined by its headers
# and left on the server. Parsing takes about 8 times a message's size in memory; the
# parser itself refuses more than 40 MB, hence the default.
MAIL_MAX_MESSAGE_BYTES: int = env_int("FRONTDESK_MAIL_MAX_MESSAGE_MB", default=40) * 1024 * 1024

# More mail than this from one sender within the window is quarantined (a loop, a flood).
MAIL_SENDER_LIMIT: int = env_int("FRONTDESK_MAIL_SENDER_LIMIT", default=20)
MAIL_SENDER_WINDOW_S: int = env_int("FRONTDESK_MAIL_SENDER_WINDOW_S", default=600)

# A reply that a mailbox's SMTP server did not take is tried again this many times,
# waiting FRONTDESK_MAIL_RETRY_DELAY_S seconds, doubled after each failed try.
MAIL_SEND_RETRIES: int = env_int("FRONTDESK_MAIL_SEND_RETRIES", default=4)
MAIL_RETRY_DELAY_S: int = env_int("FRONTDESK_MAIL_RETRY_DELAY_S", default=60)

# Outgoing mail (password resets, portal sign-in links). Without an SMTP host the
# messages are written as files under FRONTDESK_HOME/outbox, so a local install works.
SMTP_HOST: str = env_str("FRONTDESK_SMTP_HOST", default="")
DEFAULT_FROM_EMAIL: str = env_str("FRONTDESK_FROM_EMAIL", default="frontdesk@localhost")
# Where people open Frontdesk: links in notification mails start with it.
BASE_URL: str = env_str("FRONTDESK_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env_int("FRONTDESK_SMTP_PORT", default=587)
    EMAIL_HOST_USER = env_str("FRONTDESK_SMTP_USER", default="")
    EMAIL_HOST_PASSWORD = env_str("FRONTDESK_SMTP_PASSWORD", default="")
    EMAIL_USE_TLS = env_bool("FRONTDESK_SMTP_STARTTLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = HOME / "outbox"

# Staff sign-in: this many failures for one email within the window lock it for the window.
SIGN_IN_FAILURE_LIMIT: int = env_int("FRONTDESK_SIGN_IN_FAILURE_LIMIT", default=5)
SIGN_IN_LOCKOUT_S: int = env_int("FRONTDESK_SIGN_IN_LOCKOUT_S", default=900)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("FRONTDESK_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
