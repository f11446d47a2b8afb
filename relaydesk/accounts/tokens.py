"""Personal API tokens: ``rd_<prefix>_<secret>``; only a SHA-256 of the secret is stored.

The secret has 256 bits of randomness, so a fast hash is safe here (a slow password
hash would only slow every API call). The prefix finds the row; the comparison is
constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from relaydesk.accounts.models import ApiToken, TokenScope, User
from relaydesk.core.errors import ValidationFailed

TOKEN_PREFIX = "rd_"  # noqa: S105 -- a public marker, not a secret
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def do_create_token(*, user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create a token; returns it and the full token string, which is shown once and never stored."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationFailed("Give the token a name, e.g. the script that will use it.", field="name")
    if scope not in TokenScope.values:
        raise ValidationFailed(f"Unknown scope {scope!r}.", field="scope")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, secret_hash=_hash(secret), scope=scope
    )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def do_revoke_token(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise ValidationFailed("That token does not exist.", field="token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token for ``raw`` with its active user, or None. Never raises on bad input."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    try:
        prefix, secret = raw[len(TOKEN_PREFIX) :].split("_", 1)
    except ValueError:
        return None
    # Prefixes are unique: no ORDER BY (``first()`` would add one to every API request).
    found = list(ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True)[:1])
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    if not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
