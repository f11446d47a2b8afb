"""Junk thrown at every write endpoint must come back as a client error, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.customers.api import ContactCreateIn, ContactPatchIn, OrganizationCreateIn
from relaydesk.tickets.api import MessageCreateIn, TicketCreateIn, TicketPatchIn
from tests.api.conftest import ApiClient, token_for

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
    | st.sampled_from(
        ["", " ", "\x00", "1", "new", "closed", "l2", "x@example.com", "Europe/Berlin", "\ud800"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def bodies(schema: Any, valid: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Anything; objects with the schema's own field names (past the unknown-field check);
    and a valid body with a field or two replaced by junk (past validation, into the actions)."""
    names = st.sampled_from(sorted(schema.model_fields))
    known = st.dictionaries(names, json_values, max_size=6)
    strategies = known | json_values
    if valid is not None:
        junk = st.dictionaries(names | st.text(max_size=10), json_values, max_size=2)
        strategies |= junk.map(lambda replaced: {**valid, **replaced})
    return strategies


FUZZ = settings(
    max_examples=80,
    deadline=None,
    database=None,  # nothing written to .hypothesis/ in the checkout
    # The world fixture is set up once per test, not per example; examples only add rows.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_client(world):
    return ApiClient(token_for(world.sam))


def _send(client: ApiClient, method: str, path: str, body: Any) -> None:
    # json.dumps turns a lone surrogate into an escape, as a real client's encoder would.
    response = client.request(method, path, raw=json.dumps(body).encode())
    assert response.status_code < 500, (body, response.content)
    assert "error" in response.json() or response.status_code in (200, 201)


@FUZZ
@given(body=bodies(TicketCreateIn, {"subject": "Hi", "body": "Text", "requester_email": "fuzz@example.com"}))
def test_fuzz_create_ticket(fuzz_client, body):
    _send(fuzz_client, "POST", "/tickets", body)


@FUZZ
@given(body=bodies(TicketPatchIn, {"status": "in_progress", "priority": 2, "tags": ["a"], "version": 1}))
def test_fuzz_patch_ticket(world, fuzz_client, body):
    ticket = world.ticket()
    _send(fuzz_client, "PATCH", f"/tickets/{ticket.pk}", body)


@FUZZ
@given(body=bodies(MessageCreateIn, {"kind": "reply", "body": "Hello", "status": "resolved"}))
def test_fuzz_add_message(world, fuzz_client, body):
    ticket = world.ticket()
    _send(fuzz_client, "POST", f"/tickets/{ticket.pk}/messages", body)


@FUZZ
@given(body=bodies(ContactCreateIn, {"name": "Fuzz", "emails": ["fuzz@example.com"], "language": "de"}))
def test_fuzz_create_contact(fuzz_client, body):
    _send(fuzz_client, "POST", "/contacts", body)


@FUZZ
@given(body=bodies(ContactPatchIn, {"name": "Fuzz", "emails": ["dave@globex.example"], "phone": "1"}))
def test_fuzz_patch_contact(world, fuzz_client, body):
    _send(fuzz_client, "PATCH", f"/contacts/{world.dave.pk}", body)


@FUZZ
@given(body=bodies(OrganizationCreateIn, {"name": "Fuzz Inc", "domain": "fuzz.example", "tier": "business"}))
def test_fuzz_create_organization(fuzz_client, body):
    _send(fuzz_client, "POST", "/organizations", body)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "priority",
                "channel",
                "team",
                "assignee",
                "tag",
                "language",
                "requester",
                "organization",
                "q",
                "closed",
                "scope",
                "cursor",
                "limit",
            ]
        ),
        st.text(max_size=30),
        max_size=5,
    )
)
def test_fuzz_list_parameters(fuzz_client, params):
    response = fuzz_client.get("/tickets", **params)
    assert response.status_code < 500, (params, response.content)


# Hand-picked junk that random generation is unlikely to hit.
@pytest.mark.parametrize(
    "body",
    [
        {"subject": "x", "body": "y", "requester_email": "a@b.c", "tags": ["-" * 100]},
        {"subject": "x", "body": "y", "requester_email": "üñí@例え.jp"},
        {"subject": "x", "body": "y", "requester_email": "a" * 250 + "@b.co"},
        {"subject": "x", "body": "y", "requester_id": 2**63},
        {"subject": "x", "body_html": "<script>alert(1)</script>", "requester_email": "a@b.co"},
        {"subject": "x", "body": "y", "requester_email": "a@b.co", "language": "abc-defghi"},
        {"subject": "\u0085\u2028", "body": "y", "requester_email": "a@b.co"},
    ],
)
def test_edge_cases_never_500(world, fuzz_client, body):
    _send(fuzz_client, "POST", "/tickets", body)


def test_deeply_nested_json_never_500(world, fuzz_client):
    response = fuzz_client.post("/tickets", raw=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
