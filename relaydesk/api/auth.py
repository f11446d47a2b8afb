"""Who is calling: a personal API token (``Authorization: Bearer rd_…``) or the signed-in session.

Both authenticators return the acting ``User``; endpoints read it with ``acting_user(request)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from relaydesk.accounts.models import TokenScope, User
from relaydesk.accounts.tokens import authenticate_token
from relaydesk.core.errors import PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """Personal API tokens. A read-only token may only use safe methods."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = authenticate_token(token.strip())
        if api_token is None:
            # A Bearer header that is wrong must fail loudly, even if a session cookie
            # rides along: a script with a revoked token should learn it at once.
            raise AuthenticationError(message="The API token is invalid or has been revoked.")
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied("This token is read-only; create a read and write token to make changes.")
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The browser's own session, so pages can call the API; CSRF-checked on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        # Without a signed-in session there is nothing to forge: answer 401, not a CSRF 403.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if isinstance(user, User) and user.is_active:
            return user
        return None


def acting_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (set by one of the authenticators above)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
