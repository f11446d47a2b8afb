"""Test settings: the real settings with fast password hashing and inline jobs."""

import os
import tempfile
from pathlib import Path

from relaydesk.config.settings import *  # noqa: F403
from relaydesk.config.settings import DATABASES, HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Jobs run inline; a test that switches immediate mode off gets real storage (Redis with
# REDIS_URL, else SQLite) under a name of its own per xdist worker, so workers never share jobs.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
HUEY = {**HUEY, "immediate": True, "immediate_use_memory": True, "name": f"relaydesk-test-{_WORKER}"}
if "filename" in HUEY:
    HUEY["filename"] = str(Path(tempfile.gettempdir()) / f"relaydesk-test-huey-{_WORKER}.sqlite3")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A pool per test database makes little sense; Django's test runner wants plain connections.
DATABASES["default"]["OPTIONS"].pop("pool", None)
LOGGING = {"version": 1, "disable_existing_loggers": False}
