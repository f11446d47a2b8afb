import logging

import pytest
from django.test import Client

from relaydesk.accounts.models import TokenScope
from relaydesk.accounts.tokens import do_create_token, do_revoke_token
from relaydesk.tickets.models import Status, Ticket
from tests.api.conftest import ApiClient, assert_error, token_for


def test_no_credentials_is_unauthorized(world):
    response = ApiClient(None).get("/tickets")
    error = assert_error(response, 401, "unauthorized")
    assert "Bearer" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        "rd_000000000000_forged-secret",
        "rd_nope",
        "not-even-a-token",
        "rd_" + "x" * 300,
    ],
)
def test_forged_tokens_are_unauthorized(world, token):
    assert_error(ApiClient(token).get("/tickets"), 401, "unauthorized")


def test_real_prefix_with_a_wrong_secret_is_unauthorized(world):
    real = token_for(world.alice)  # rd_<12 hex prefix>_<secret>
    forged = real[: len("rd_") + 12] + "_" + "A" * 43
    assert forged != real
    assert_error(ApiClient(forged).get("/tickets"), 401, "unauthorized")


def test_revoked_token_is_unauthorized(world):
    token, secret = do_create_token(user=world.alice, name="script", scope=TokenScope.READ)
    client = ApiClient(secret)
    assert client.get("/tickets").status_code == 200
    do_revoke_token(user=world.alice, token_id=token.pk)
    assert_error(client.get("/tickets"), 401, "unauthorized")


def test_token_of_a_deactivated_user_is_unauthorized(world):
    client = ApiClient(token_for(world.alice))
    world.alice.is_active = False
    world.alice.save()
    assert_error(client.get("/tickets"), 401, "unauthorized")


def test_read_token_reads_but_cannot_write(world):
    ticket = world.ticket()
    client = ApiClient(token_for(world.alice, TokenScope.READ))
    assert client.get(f"/tickets/{ticket.pk}").status_code == 200
    assert client.get("/users/me").json()["token_scope"] == "read"
    assert_error(client.patch(f"/tickets/{ticket.pk}", {"priority": 1}), 403, "forbidden")
    assert_error(
        client.post(f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": "x"}), 403, "forbidden"
    )
    assert_error(
        client.post("/tickets", {"subject": "x", "body": "y", "requester_id": world.carol.pk}),
        403,
        "forbidden",
    )
    assert_error(client.post("/contacts", {"name": "Zed", "emails": ["zed@example.com"]}), 403, "forbidden")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version, ticket.messages.count()) == (3, 1, 1)
    assert Ticket.objects.count() == 1


def test_a_bad_token_is_not_rescued_by_a_session(world):
    client = ApiClient("rd_000000000000_forged")
    client.client.force_login(world.alice)
    assert_error(client.get("/tickets"), 401, "unauthorized")


def test_session_reads_and_writes_with_csrf(world):
    ticket = world.ticket()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.alice)
    assert browser.get(f"/api/v1/tickets/{ticket.pk}").status_code == 200

    refused = browser.patch(
        f"/api/v1/tickets/{ticket.pk}", '{"priority": 1}', content_type="application/json"
    )
    assert_error(refused, 403, "forbidden")
    ticket.refresh_from_db()
    assert ticket.priority == 3

    browser.get("/api/v1/docs")  # sets the CSRF cookie, as any page does
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.patch(
        f"/api/v1/tickets/{ticket.pk}",
        '{"priority": 1}',
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["priority"] == 1


def test_post_without_any_credentials_is_401_not_a_csrf_error(world):
    response = Client(enforce_csrf_checks=True).post("/api/v1/tickets", "{}", content_type="application/json")
    assert_error(response, 401, "unauthorized")


def test_docs_and_schema_are_served(world, client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/tickets", "/api/v1/tickets/{number}", "/api/v1/contacts", "/api/v1/users"} <= set(paths)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    # Served from our own static files, not a CDN: agents may sit behind a VPN-only network.
    assert b"cdn.jsdelivr" not in docs.content


def test_invalid_json_is_a_bad_request(world, api_as):
    response = api_as(world.alice).post("/tickets", raw=b'{"subject": ')
    assert_error(response, 400, "bad_request", "(body)")


@pytest.mark.parametrize("body", [[1, 2], "text", 42, None])
def test_body_that_is_not_an_object_is_a_validation_error(world, api_as, body):
    assert_error(api_as(world.alice).post("/tickets", body), 422, "validation_error", "(body)")


def test_oversized_body_is_refused(world, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = api_as(world.alice).post("/tickets", {"subject": "x", "body": "y" * 5000, "requester_id": 1})
    assert_error(response, 413, "payload_too_large")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_route_is_a_json_404(world, api_as, method):
    response = api_as(world.alice).request(method, "/tickets/1/nothing-here", {})
    assert_error(response, 404, "not_found")


def test_unexpected_errors_are_500_with_a_generic_message_and_logged(world, api_as, monkeypatch, caplog):
    from relaydesk.tickets import api as tickets_api

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(tickets_api, "filter_tickets", broken)
    with caplog.at_level(logging.ERROR, logger="relaydesk.api"):
        response = api_as(world.alice).get("/tickets")
    error = assert_error(response, 500, "server_error")
    assert "secret" not in error["message"]
    assert any("secret internal detail" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_status_choices_are_documented_in_the_schema(world, client):
    schema = client.get("/api/v1/openapi.json").json()
    patch = schema["components"]["schemas"]["TicketPatchIn"]["properties"]["status"]
    assert set(Status.values) <= set(patch["anyOf"][0]["enum"])
