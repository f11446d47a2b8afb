"""Test settings: the real settings with fast password hashing and inline jobs."""

from relaydesk.config.settings import *  # noqa: F403
from relaydesk.config.settings import DATABASES, HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HUEY = {**HUEY, "immediate": True, "immediate_use_memory": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A pool per test database makes little sense; Django's test runner wants plain connections.
DATABASES["default"]["OPTIONS"].pop("pool", None)
LOGGING = {"version": 1, "disable_existing_loggers": False}
