import typing

import pytest

from relaydesk.accounts.models import Level
from relaydesk.customers.models import Contact, ContactEmail
from relaydesk.tickets import api as tickets_api
from relaydesk.tickets.actions import NewAttachment, check_change_ticket, do_create_ticket
from relaydesk.tickets.models import (
    Category,
    Channel,
    EventKind,
    Message,
    MessageKind,
    Product,
    Status,
    Ticket,
    TicketEvent,
)
from tests.api.conftest import assert_error


def test_choices_in_the_schema_match_the_models():
    assert list(typing.get_args(tickets_api.StatusName)) == Status.values
    assert list(typing.get_args(tickets_api.ChannelName)) == Channel.values
    assert list(typing.get_args(tickets_api.LevelName)) == Level.values


# --- create -------------------------------------------------------------------------------


def test_create_ticket_for_an_existing_contact(world, api_as):
    category = Category.objects.create(name="Billing")
    product = Product.objects.create(name="Printer")
    response = api_as(world.alice).post(
        "/tickets",
        {
            "subject": "Phone: refund request",
            "body": "Customer called about a double charge.",
            "requester_id": world.carol.pk,
            "channel": "phone",
            "priority": 2,
            "assignee_id": world.alice.pk,
            "tags": ["Billing", "refund"],
            "category_id": category.pk,
            "product_id": product.pk,
            "call_duration_seconds": 240,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["number"])
    assert body["subject"] == "Phone: refund request"
    assert body["status"] == Status.ASSIGNED
    assert body["priority"] == 2
    assert body["channel"] == "phone"
    assert body["requester"] == {
        "id": world.carol.pk,
        "name": "Carol Customer",
        "email": "carol@acme.example",
    }
    assert body["organization"] == {"id": world.acme.pk, "name": "Acme"}
    assert body["team"] == {"id": world.americas.pk, "name": "Americas"}
    assert body["assignee"] == {"id": world.alice.pk, "name": "Alice Agent", "email": "alice@relaydesk.test"}
    assert body["tags"] == ["billing", "refund"]
    assert body["category"] == {"id": category.pk, "name": "Billing"}
    assert body["product"] == {"id": product.pk, "name": "Printer"}
    assert body["call_duration_seconds"] == 240
    assert body["version"] == ticket.version
    assert body["merged_into"] is None
    assert ticket.messages.get().body_text == "Customer called about a double charge."


def test_create_ticket_finds_or_creates_the_requester_by_email(world, api_as):
    client = api_as(world.alice)
    response = client.post(
        "/tickets",
        {"subject": "Hello", "body": "Hi", "requester_email": "erin@acme.example", "requester_name": "Erin"},
    )
    assert response.status_code == 201, response.content
    erin = Contact.objects.get(emails__address="erin@acme.example")
    assert erin.name == "Erin"
    assert erin.organization == world.acme
    assert response.json()["requester"]["id"] == erin.pk
    # The same address again (other case) is the same contact.
    again = client.post(
        "/tickets", {"subject": "Again", "body": "Hi", "requester_email": "ERIN@acme.example"}
    )
    assert again.json()["requester"]["id"] == erin.pk
    assert Contact.objects.count() == 3


def test_create_ticket_rolls_back_a_new_contact_when_the_ticket_is_refused(world, api_as):
    response = api_as(world.alice).post(
        "/tickets", {"subject": "   ", "body": "Hi", "requester_email": "ghost@example.com"}
    )
    assert_error(response, 422, "validation_error", "subject")
    assert not ContactEmail.objects.filter(address="ghost@example.com").exists()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "requester_id"),
        ({"requester_id": 1, "requester_email": "x@example.com"}, "requester_id"),
        ({"requester_id": 999_999}, "requester_id"),
        ({"requester_email": "not-an-address"}, "requester_email"),
    ],
)
def test_create_ticket_needs_exactly_one_valid_requester(world, api_as, extra, field):
    response = api_as(world.alice).post("/tickets", {"subject": "Hello", "body": "Hi", **extra})
    assert_error(response, 422, "validation_error", field)
    assert not Ticket.objects.exists()
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"team_id": 999_999}, "team_id"),
        ({"assignee_id": 999_999}, "assignee_id"),
        ({"category_id": 999_999}, "category_id"),
        ({"product_id": 999_999}, "product_id"),
        ({"priority": 5}, "priority"),
        ({"priority": "1"}, "priority"),
        ({"priority": True}, "priority"),
        ({"channel": "pigeon"}, "channel"),
        ({"tags": "billing"}, "tags"),
        ({"language": "english please"}, "language"),
        ({"call_duration_seconds": -1}, "call_duration_seconds"),
        ({"body": ""}, "body"),
        ({"subject": "x" * 300}, "subject"),
        ({"subject": "nul\x00byte"}, "subject"),
        ({"subject": "lone \ud800 surrogate"}, "subject"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_ticket_rejects_bad_fields_by_name(world, api_as, extra, field):
    body = {"subject": "Hello", "body": "Hi", "requester_id": world.carol.pk, **extra}
    response = api_as(world.alice).post("/tickets", body)
    assert_error(response, 422, "validation_error", field)
    assert not Ticket.objects.exists()


def test_agent_cannot_create_for_another_team(world, api_as):
    response = api_as(world.alice).post(
        "/tickets",
        {"subject": "Hello", "body": "Hi", "requester_id": world.carol.pk, "team_id": world.emea.pk},
    )
    assert_error(response, 403, "forbidden", "team_id")
    assert not Ticket.objects.exists()


def test_deactivated_assignee_is_refused(world, api_as):
    world.bob.is_active = False
    world.bob.save()
    response = api_as(world.sam).post(
        "/tickets",
        {"subject": "Hello", "body": "Hi", "requester_id": world.carol.pk, "assignee_id": world.bob.pk},
    )
    assert_error(response, 422, "validation_error", "assignee_id")


# --- create many ---------------------------------------------------------------------------


def test_bulk_create_opens_every_ticket_in_order(world, api_as, django_assert_max_num_queries):
    tickets: list[dict[str, object]] = [
        {"subject": f"Imported {n}", "body": f"Body {n}", "requester_email": f"import{n}@acme.example"}
        for n in range(30)
    ]
    tickets[3] |= {"requester_id": world.carol.pk, "requester_email": None, "priority": 1}
    tickets[4] |= {"tags": ["Billing"], "channel": "chat"}
    # One statement per kind of row for the whole list, whatever its length.
    with django_assert_max_num_queries(30):  # 28 here: one query per ticket would pass 50
        response = api_as(world.alice).post("/tickets/bulk", {"tickets": tickets})
    assert response.status_code == 201, response.content
    body = response.json()["tickets"]
    assert [t["subject"] for t in body] == [f"Imported {n}" for n in range(30)]
    assert body[3]["requester"]["id"] == world.carol.pk
    assert (body[3]["priority"], body[4]["tags"], body[4]["channel"]) == (1, ["billing"], "chat")
    assert body[0]["requester"]["email"] == "import0@acme.example"
    assert body[0]["team"] == {"id": world.americas.pk, "name": "Americas"}  # alice's team
    created = Ticket.objects.filter(pk__in=[t["number"] for t in body])
    assert created.count() == 30
    assert Message.objects.filter(ticket__in=created, kind=MessageKind.CUSTOMER).count() == 30
    assert TicketEvent.objects.filter(ticket__in=created, kind=EventKind.CREATED).count() == 30


def test_bulk_create_is_all_or_nothing_and_names_the_ticket_at_fault(world, api_as):
    tickets = [
        {"subject": "Fine", "body": "Hi", "requester_email": "new@acme.example"},
        {"subject": "Also fine", "body": "Hi", "requester_id": world.carol.pk},
        {"subject": "Wrong team", "body": "Hi", "requester_id": world.carol.pk, "team_id": world.emea.pk},
    ]
    client = api_as(world.alice)
    assert_error(client.post("/tickets/bulk", {"tickets": tickets}), 403, "forbidden", "tickets.2.team_id")
    tickets[2] = {"subject": "Bad address", "body": "Hi", "requester_email": "nope"}
    assert_error(
        client.post("/tickets/bulk", {"tickets": tickets}),
        422,
        "validation_error",
        "tickets.2.requester_email",
    )
    tickets[2] = {"subject": "Bad priority", "body": "Hi", "requester_id": world.carol.pk, "priority": 9}
    assert_error(
        client.post("/tickets/bulk", {"tickets": tickets}), 422, "validation_error", "tickets.2.priority"
    )
    assert not Ticket.objects.exists()
    assert not ContactEmail.objects.filter(address="new@acme.example").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tickets": []}, "tickets"),
        ({"tickets": [{"subject": "x", "body": "y", "requester_email": "a@b.example"}] * 101}, "tickets"),
        ({"tickets": "many"}, "tickets"),
        ({}, "tickets"),
        ({"tickets": [], "extra": 1}, "extra"),
    ],
)
def test_bulk_create_refuses_a_list_that_is_empty_too_long_or_not_a_list(world, api_as, body, field):
    assert_error(api_as(world.alice).post("/tickets/bulk", body), 422, "validation_error", field)
    assert not Ticket.objects.exists()


def test_bulk_create_needs_a_read_write_token(world, api_as):
    response = api_as(world.alice, scope="read").post(
        "/tickets/bulk", {"tickets": [{"subject": "x", "body": "y", "requester_id": world.carol.pk}]}
    )
    assert response.status_code == 403, response.content
    assert not Ticket.objects.exists()


# --- read ---------------------------------------------------------------------------------


def test_get_ticket_is_scoped_to_what_the_caller_may_see(world, api_as):
    ticket = world.ticket(team=world.americas)
    assert api_as(world.alice).get(f"/tickets/{ticket.pk}").json()["number"] == ticket.pk
    assert api_as(world.sam).get(f"/tickets/{ticket.pk}").status_code == 200
    error = assert_error(api_as(world.bob).get(f"/tickets/{ticket.pk}"), 404, "not_found")
    # Same answer as for a ticket that does not exist: no hint it is there.
    missing = assert_error(api_as(world.bob).get("/tickets/999999"), 404, "not_found")
    assert error["message"].replace(str(ticket.pk), "N") == missing["message"].replace("999999", "N")


@pytest.mark.parametrize("number", ["abc", "0", "-1", "99999999999999999999999"])
def test_bad_ticket_numbers_are_validation_errors(world, api_as, number):
    assert_error(api_as(world.alice).get(f"/tickets/{number}"), 422, "validation_error", "number")


# --- change -------------------------------------------------------------------------------


def test_patch_changes_fields_through_the_action(world, api_as):
    ticket = world.ticket(tags=["printer"])
    response = api_as(world.alice).patch(
        f"/tickets/{ticket.pk}",
        {
            "priority": 1,
            "assignee_id": world.alice.pk,
            "status": "in_progress",
            "add_tags": ["Outage"],
            "level": "l2",
            "subject": "Printer down on floor 3",
            "version": ticket.version,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["priority"] == 1
    assert body["assignee"]["id"] == world.alice.pk
    assert body["status"] == "in_progress"
    assert body["tags"] == ["outage", "printer"]
    assert body["level"] == "l2"
    assert body["subject"] == "Printer down on floor 3"
    assert body["version"] == ticket.version + 1
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {
        EventKind.PRIORITY,
        EventKind.ASSIGNEE,
        EventKind.STATUS,
        EventKind.TAGS,
        EventKind.LEVEL,
    } <= kinds


def test_patch_null_unassigns_and_omitted_fields_stay(world, api_as):
    ticket = world.ticket(assignee=world.alice, priority=2)
    response = api_as(world.alice).patch(f"/tickets/{ticket.pk}", {"assignee_id": None})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert ticket.priority == 2
    assert ticket.team == world.americas


def test_patch_with_a_stale_version_is_a_conflict_and_changes_nothing(world, api_as):
    ticket = world.ticket()
    stale = ticket.version
    check_change_ticket(world.sam, ticket.pk, expected_version=None, priority=2)
    response = api_as(world.alice).patch(f"/tickets/{ticket.pk}", {"priority": 1, "version": stale})
    assert_error(response, 409, "conflict")
    ticket.refresh_from_db()
    assert ticket.priority == 2
    assert ticket.version == stale + 1


def test_patch_another_teams_ticket_is_not_found_and_changes_nothing(world, api_as):
    ticket = world.ticket(team=world.americas)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    response = api_as(world.bob).patch(f"/tickets/{ticket.pk}", {"priority": 1, "status": "in_progress"})
    assert_error(response, 404, "not_found")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status, ticket.version) == (3, Status.NEW, 1)
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_patch_illegal_transition_is_refused(world, api_as):
    ticket = world.ticket()
    response = api_as(world.alice).patch(f"/tickets/{ticket.pk}", {"status": "pending_customer"})
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "illegal_transition"
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": None}, "status"),
        ({"priority": 2.0}, "priority"),
        ({"level": "l9"}, "level"),
        ({"version": "1"}, "version"),
        ({"assignee_id": "bob"}, "assignee_id"),
        ({"team_id": 999_999}, "team_id"),
        ({"tags": [1, 2]}, "tags.0"),
        ({"requester_id": 1}, "requester_id"),
    ],
)
def test_patch_rejects_bad_fields_by_name(world, api_as, body, field):
    ticket = world.ticket()
    response = api_as(world.alice).patch(f"/tickets/{ticket.pk}", body)
    assert_error(response, 422, "validation_error", field)
    ticket.refresh_from_db()
    assert ticket.version == 1


# --- list ---------------------------------------------------------------------------------


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["number"] for item in response.json()["items"]]


def test_list_is_scoped_and_in_queue_order(world, api_as):
    low = world.ticket(priority=4)
    urgent = world.ticket(priority=1)
    emea = world.ticket(team=world.emea)
    assert numbers(api_as(world.alice).get("/tickets")) == [urgent.pk, low.pk]
    assert numbers(api_as(world.bob).get("/tickets")) == [emea.pk]
    assert numbers(api_as(world.sam).get("/tickets")) == [urgent.pk, emea.pk, low.pk]


def test_list_filters_like_the_agent_queue(world, api_as):
    mine = world.ticket(assignee=world.alice, tags=["vip"], subject="Invoice missing")
    unassigned = world.ticket(channel=Channel.CHAT, priority=2)
    dave = world.ticket(requester=world.dave)
    closed = world.ticket()
    check_change_ticket(world.sam, closed.pk, expected_version=None, status=Status.CLOSED)
    client = api_as(world.alice)
    assert numbers(client.get("/tickets", scope="mine")) == [mine.pk]
    assert numbers(client.get("/tickets", scope="unassigned")) == [unassigned.pk, dave.pk]
    assert numbers(client.get("/tickets", assignee="none", channel="chat")) == [unassigned.pk]
    assert numbers(client.get("/tickets", assignee=str(world.alice.pk))) == [mine.pk]
    assert numbers(client.get("/tickets", tag="vip")) == [mine.pk]
    assert numbers(client.get("/tickets", q="invoice")) == [mine.pk]
    assert numbers(client.get("/tickets", q=f"#{dave.pk}")) == [dave.pk]
    assert numbers(client.get("/tickets", requester=str(world.dave.pk))) == [dave.pk]
    assert numbers(client.get("/tickets", organization=str(world.acme.pk))) == [unassigned.pk, mine.pk]
    assert numbers(client.get("/tickets", status="new,assigned", priority="2")) == [unassigned.pk]
    assert closed.pk not in numbers(client.get("/tickets"))
    assert closed.pk in numbers(client.get("/tickets", closed="true"))
    assert numbers(client.get("/tickets", status="closed")) == [closed.pk]


def test_list_pages_by_cursor(world, api_as):
    tickets = [world.ticket(priority=1 + index % 4) for index in range(7)]
    expected = [t.pk for t in sorted(tickets, key=lambda t: (t.priority, t.waiting_since, t.pk))]
    client = api_as(world.alice)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = client.get("/tickets", **params)
        seen += numbers(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "sleeping"}, "status"),
        ({"priority": "9"}, "priority"),
        ({"assignee": "bob"}, "assignee"),
        ({"scope": "everything"}, "scope"),
        ({"q": "nul\x00"}, "q"),
    ],
)
def test_list_rejects_bad_parameters_by_name(world, api_as, params, field):
    assert_error(api_as(world.alice).get("/tickets", **params), 422, "validation_error", field)


@pytest.mark.parametrize("count", [5, 30])
def test_list_query_count_does_not_grow_with_tickets(world, api_as, django_assert_num_queries, count):
    for index in range(count):
        requester = world.carol if index % 2 else world.dave
        world.ticket(requester=requester, tags=[f"tag-{index % 3}", "common"], assignee=world.alice)
    client = api_as(world.alice)
    client.get("/tickets")  # the token's last_used_at is written once a minute; get that out of the way
    # token lookup, the agent's team ids, tickets with their joins, tags, requester emails
    with django_assert_num_queries(5):
        response = client.get("/tickets", limit="100")
    assert len(response.json()["items"]) == count
    assert all(item["tags"] for item in response.json()["items"])


def test_single_ticket_query_count(world, api_as, django_assert_num_queries):
    ticket = world.ticket(tags=["a", "b", "c"], assignee=world.alice)
    client = api_as(world.alice)
    client.get(f"/tickets/{ticket.pk}")
    # token lookup, ticket with its joins, tags, requester emails
    with django_assert_num_queries(4):
        assert client.get(f"/tickets/{ticket.pk}").json()["tags"] == ["a", "b", "c"]


# --- messages -----------------------------------------------------------------------------


def test_messages_include_notes_and_attachment_metadata(world, api_as):
    ticket = do_create_ticket(
        subject="Screenshot",
        requester=world.carol,
        body_text="See attached.",
        team=world.americas,
        attachments=[NewAttachment(filename="screen.png", content_type="image/png", content=b"\x89PNG....")],
    )
    client = api_as(world.alice)
    assert (
        client.post(
            f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": "Looks like a driver issue"}
        ).status_code
        == 201
    )
    response = client.get(f"/tickets/{ticket.pk}/messages")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [m["kind"] for m in items] == ["customer", "note"]
    assert items[0]["author"] == {"type": "contact", "id": world.carol.pk, "name": "Carol Customer"}
    assert items[1]["author"] == {"type": "user", "id": world.alice.pk, "name": "Alice Agent"}
    [attachment] = items[0]["attachments"]
    assert attachment["filename"] == "screen.png"
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == 8
    download = client.client.get(attachment["url"], headers=client._headers())
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG...."
    assert_error(api_as(world.bob).get(attachment["url"].removeprefix("/api/v1")), 404, "not_found")


def test_messages_page_by_cursor(world, api_as):
    ticket = world.ticket()
    client = api_as(world.alice)
    for index in range(4):
        client.post(f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": f"note {index}"})
    first = client.get(f"/tickets/{ticket.pk}/messages", limit="3").json()
    second = client.get(f"/tickets/{ticket.pk}/messages", limit="3", cursor=first["next_cursor"]).json()
    bodies = [m["body_text"] for m in first["items"] + second["items"]]
    assert bodies == ["It stopped printing this morning.", "note 0", "note 1", "note 2", "note 3"]
    assert second["next_cursor"] is None


def test_reply_with_status_goes_through_the_action(world, api_as):
    ticket = world.ticket()
    response = api_as(world.alice).post(
        f"/tickets/{ticket.pk}/messages",
        {"kind": "reply", "body_html": "<p>Fixed!<script>alert(1)</script></p>", "status": "resolved"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "reply"
    assert "script" not in body["body_html"]
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.assignee == world.alice
    assert ticket.first_response_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "customer", "body": "x"}, "kind"),
        ({"kind": "note"}, "body"),
        ({"kind": "note", "body": "x", "status": "sleeping"}, "status"),
        ({"kind": "note", "body": "x", "author": "Eve"}, "author"),
    ],
)
def test_add_message_rejects_bad_fields_by_name(world, api_as, body, field):
    ticket = world.ticket()
    assert_error(
        api_as(world.alice).post(f"/tickets/{ticket.pk}/messages", body), 422, "validation_error", field
    )
    assert ticket.messages.count() == 1


def test_messages_of_another_teams_ticket_are_not_found(world, api_as):
    ticket = world.ticket(team=world.americas)
    client = api_as(world.bob)
    assert_error(client.get(f"/tickets/{ticket.pk}/messages"), 404, "not_found")
    assert_error(
        client.post(f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": "hi"}), 404, "not_found"
    )
    assert list(Message.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        MessageKind.CUSTOMER
    ]
