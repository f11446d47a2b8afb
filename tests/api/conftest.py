"""API test helpers: a client that sends a personal token, and tokens for the shared world."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from relaydesk.accounts.models import TokenScope, User
from relaydesk.accounts.tokens import do_create_token


class ApiClient:
    """Calls /api/v1 with a bearer token and JSON bodies; returns the raw response."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.client = Client()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **params: Any):
        url = f"/api/v1{path}"
        if method == "GET":
            return self.client.get(url, params, headers=self._headers())
        data = raw if raw is not None else json.dumps(body)
        call = getattr(self.client, method.lower())
        return call(url, data=data, content_type="application/json", headers=self._headers())

    def get(self, path: str, **params: Any):
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("PATCH", path, body, **kwargs)


def token_for(user: User, scope: str = TokenScope.READ_WRITE) -> str:
    _token, secret = do_create_token(user=user, name="tests", scope=scope)
    return secret


@pytest.fixture
def api_as(world):
    """``api_as(world.alice)`` → a client authenticated with a read-write token of alice."""

    def make(user: User, scope: str = TokenScope.READ_WRITE) -> ApiClient:
        return ApiClient(token_for(user, scope))

    return make


def assert_error(response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is an error of the one shape; returns its ``error`` object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    if field is not None:
        assert field in [f["field"] for f in error["fields"]], error
    return error
