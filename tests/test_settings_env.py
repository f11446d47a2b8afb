"""Settings fail loudly on malformed values, and .env.example documents every variable read."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from relaydesk.core import env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("reader", "value"),
    [
        (lambda: env.env_bool("X_TEST", False), "maybe"),
        (lambda: env.env_int("X_TEST", 1), "ten"),
        (lambda: env.env_int("X_TEST", 1, minimum=5), "2"),
        (lambda: env.env_time_zone("X_TEST", "UTC"), "Mars/Olympus"),
        (lambda: env.env_choice("X_TEST", "a", ("a", "b")), "c"),
    ],
)
def test_malformed_values_are_refused(monkeypatch, reader, value):
    monkeypatch.setenv("X_TEST", value)
    with pytest.raises(ImproperlyConfigured, match="X_TEST"):
        reader()


def test_file_variant_is_read(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("X_TEST_FILE", str(secret))
    assert env.env_str("X_TEST", "default") == "from-a-file"


def test_every_setting_read_from_the_environment_is_documented():
    sources = [ROOT / "relaydesk" / "config" / "settings.py", ROOT / "relaydesk" / "cli.py"]
    read = set()
    for source in sources:
        text = source.read_text()
        read |= set(re.findall(r"env_\w+\(\s*\"([A-Z_]+)\"", text))
        read |= set(re.findall(r"environ\.get\(\"([A-Z_]+)\"", text))
    read -= {"DJANGO_SETTINGS_MODULE"}
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read, "the scan found no settings"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
