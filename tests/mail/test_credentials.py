from __future__ import annotations

import pytest
from django.test import override_settings

from relaydesk.mail.credentials import CredentialError, decrypt, encrypt


def test_passwords_round_trip_and_are_not_stored_in_clear() -> None:
    token = encrypt("hunter2-imap")
    assert "hunter2" not in token
    assert token != encrypt("hunter2-imap")  # random IV: equal passwords do not look equal
    assert decrypt(token) == "hunter2-imap"
    assert encrypt("") == ""
    assert decrypt("") == ""


def test_a_changed_key_is_a_clear_error() -> None:
    token = encrypt("secret")
    with override_settings(SECRET_KEY="another-secret-key-entirely"), pytest.raises(CredentialError):
        decrypt(token)


def test_an_explicit_key_is_used() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    with override_settings(MAIL_CREDENTIALS_KEY=key):
        token = encrypt("pw")
        assert Fernet(key.encode()).decrypt(token.encode()) == b"pw"
