"""Mailbox passwords encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key is ``MAIL_CREDENTIALS_KEY`` when set, else derived from ``SECRET_KEY`` with HKDF, so a
stolen database alone does not reveal any mailbox password.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialError(Exception):
    """A stored password cannot be decrypted (the key changed): it must be entered again."""


@cache
def _fernet(configured_key: str, secret_key: str) -> Fernet:
    if configured_key:
        try:
            return Fernet(configured_key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(
                "MAIL_CREDENTIALS_KEY must be 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from exc
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"relaydesk mailbox credentials")
    return Fernet(base64.urlsafe_b64encode(derived.derive(secret_key.encode())))


def _key() -> Fernet:
    return _fernet(settings.MAIL_CREDENTIALS_KEY, settings.SECRET_KEY)


def encrypt(password: str) -> str:
    return "" if not password else _key().encrypt(password.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _key().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialError(
            "The stored password cannot be decrypted (the encryption key changed): enter it again."
        ) from None
