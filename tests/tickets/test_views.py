import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relaydesk.tickets.actions import NewAttachment, check_add_message
from relaydesk.tickets.models import Message, MessageKind, SavedView, Status, Ticket, TicketEvent
from relaydesk.tickets.views.queue import PAGE_SIZE

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice_client(client, world):
    client.force_login(world.alice)
    return client


def test_sign_in_required(client, world):
    response = client.get(reverse("tickets:queue"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_queue_sorted_p1_first_then_oldest_waiting(alice_client, world):
    low = world.ticket(subject="Low one", priority=4, assignee=world.alice)
    urgent = world.ticket(subject="Urgent one", priority=1, assignee=world.alice)
    response = alice_client.get(reverse("tickets:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(urgent.subject) < html.index(low.subject)


def test_navigation_counts_arrive_after_the_page(alice_client, world, django_assert_max_num_queries):
    world.ticket(subject="Mine 1", assignee=world.alice)
    world.ticket(subject="Mine 2", assignee=world.alice)
    Ticket.objects.filter(pk=world.ticket(subject="Mine, resolved", assignee=world.alice).pk).update(
        status=Status.RESOLVED
    )
    world.ticket(subject="Nobody's")
    world.ticket(subject="Other team's", team=world.emea)
    page = alice_client.get(reverse("tickets:queue")).content.decode()
    assert f'hx-get="{reverse("tickets:nav_counts")}" hx-trigger="load, every 60s"' in page
    assert '<span class="count" id="nav-count-mine"></span>' in page  # filled in by the request below

    with django_assert_max_num_queries(5):  # session, user, her teams, two counts
        response = alice_client.get(reverse("tickets:nav_counts"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert '<span class="count" id="nav-count-mine" hx-swap-oob="true">2</span>' in html
    assert '<span class="count" id="nav-count-unassigned" hx-swap-oob="true">1</span>' in html


def test_navigation_counts_need_a_signed_in_agent(client, world):
    assert client.get(reverse("tickets:nav_counts")).status_code == 302
    client.force_login(world.alice)
    assert client.post(reverse("tickets:nav_counts")).status_code == 405


def test_queue_query_count_does_not_grow_with_tickets(alice_client, world, django_assert_max_num_queries):
    for index in range(3):
        world.ticket(subject=f"t{index}", tags=["vip"])
    with django_assert_max_num_queries(16) as few:
        alice_client.get(reverse("tickets:unassigned"))
    for index in range(30):
        world.ticket(subject=f"more{index}", tags=["vip", "billing"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("tickets:unassigned"))


def test_filters_and_bad_filter_values(alice_client, world):
    world.ticket(subject="Chat thing", channel="chat")
    world.ticket(subject="Mail thing", channel="email")
    html = alice_client.get(reverse("tickets:unassigned"), {"channel": "chat"}).content.decode()
    assert "Chat thing" in html
    assert "Mail thing" not in html
    response = alice_client.get(reverse("tickets:unassigned"), {"priority": "banana", "cursor": "%%%"})
    assert response.status_code == 200
    assert "priority must be a number" in response.content.decode()


def test_keyset_load_more_returns_next_rows(alice_client, world):
    for index in range(PAGE_SIZE + 5):
        world.ticket(subject=f"Ticket number {index:02d}")
    first = alice_client.get(reverse("tickets:unassigned"))
    page = first.context["page"]
    assert len(page.tickets) == PAGE_SIZE
    assert page.next_cursor
    more = alice_client.get(reverse("tickets:unassigned"), {"cursor": page.next_cursor}, **HX)
    assert more.status_code == 200
    assert len(more.context["page"].tickets) == 5
    assert not {t.pk for t in page.tickets} & {t.pk for t in more.context["page"].tickets}


def test_other_teams_ticket_is_404_and_team_queue_hidden(client, world):
    ticket = world.ticket(team=world.americas)
    client.force_login(world.bob)
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("tickets:team", args=[world.americas.pk])).status_code == 404
    response = client.post(reverse("tickets:add_message", args=[ticket.pk]), {"kind": "note", "body": "x"})
    assert response.status_code == 404
    assert ticket.messages.count() == 1


def test_ticket_page_reply_note_and_resolve(alice_client, world):
    ticket = world.ticket()
    page = alice_client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert page.status_code == 200
    url = reverse("tickets:add_message", args=[ticket.pk])
    assert alice_client.post(url, {"kind": "reply", "body": "Hello Carol"}, **HX).status_code == 200
    assert alice_client.post(url, {"kind": "note", "body": "Internal detail"}, **HX).status_code == 200
    kinds = list(ticket.messages.values_list("kind", flat=True))
    assert kinds == [MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.NOTE]
    html = alice_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'class="msg note"' in html
    assert "Internal note" in html
    alice_client.post(reverse("tickets:resolve", args=[ticket.pk]), **HX)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_empty_reply_is_a_form_error(alice_client, world):
    ticket = world.ticket()
    response = alice_client.post(
        reverse("tickets:add_message", args=[ticket.pk]), {"kind": "reply", "body": ""}, **HX
    )
    assert response.status_code == 422
    assert ticket.messages.count() == 1


def test_concurrent_edit_shows_conflict_and_keeps_first_save(client, world):
    ticket = world.ticket(assignee=world.alice)
    url = reverse("tickets:update", args=[ticket.pk])
    base = {"status": "assigned", "level": "l1", "assignee": world.alice.pk, "team": world.americas.pk}
    client.force_login(world.alice)
    first = client.post(url, {**base, "version": ticket.version, "priority": 1}, **HX)
    assert first.status_code == 200
    client.force_login(world.sam)
    second = client.post(url, {**base, "version": ticket.version, "priority": 4}, **HX)
    assert second.status_code == 409
    assert "Someone else changed this ticket" in second.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_create_ticket_for_new_phone_caller(alice_client, world):
    response = alice_client.post(
        reverse("tickets:create"),
        {
            "new_name": "Paula Phone",
            "new_phone": "+1 555 0100",
            "subject": "Cannot reset password",
            "body": "Called in, the reset mail never arrives.",
            "description_is_note": "on",
            "channel": "phone",
            "call_duration": "12:30",
            "priority": "2",
            "tags": "password, login",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Cannot reset password")
    assert ticket.requester.name == "Paula Phone"
    assert ticket.call_duration_seconds == 750
    assert ticket.team == world.americas
    assert ticket.messages.get().kind == MessageKind.NOTE


def test_create_ticket_bad_input_is_a_form_error(alice_client, world):
    response = alice_client.post(
        reverse("tickets:create"), {"subject": "", "call_duration": "abc", "priority": "9"}
    )
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_bulk_assign_and_tag(alice_client, world):
    tickets = [world.ticket(subject=f"b{i}") for i in range(3)]
    response = alice_client.post(
        reverse("tickets:bulk"), {"ticket": [t.pk for t in tickets], "assignee": "me", "add_tag": "Bulk"}
    )
    assert response.status_code == 302
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == world.alice
        assert list(ticket.tags.values_list("name", flat=True)) == ["bulk"]
    assert TicketEvent.objects.filter(kind="assignee").count() == 3


def test_bulk_on_invisible_tickets_changes_nothing(client, world):
    ticket = world.ticket(team=world.americas)
    client.force_login(world.bob)
    client.post(reverse("tickets:bulk"), {"ticket": [ticket.pk], "assignee": "me"})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_saved_view_round_trip(alice_client, world):
    response = alice_client.post(
        reverse("tickets:save_view"), {"name": "Urgent chat", "query": "priority=1&channel=chat"}
    )
    view = SavedView.objects.get(owner=world.alice)
    assert response.status_code == 302
    page = alice_client.get(reverse("tickets:saved_view", args=[view.pk]))
    assert page.context["filters"].priorities == [1]
    assert page.context["filters"].channels == ["chat"]


def test_attachment_download_only_for_those_who_see_the_ticket(client, world):
    ticket = world.ticket()
    check_add_message(
        world.alice,
        ticket.pk,
        kind=MessageKind.NOTE,
        body_text="log attached",
        attachments=[NewAttachment("../../etc/passwd.html", "text/html", b"<script>alert(1)</script>")],
    )
    attachment = Message.objects.get(kind=MessageKind.NOTE).attachments.get()
    assert attachment.filename == "passwd.html"
    client.force_login(world.bob)
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404
    client.force_login(world.alice)
    response = client.get(reverse("tickets:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"


def test_reply_with_upload(alice_client, world):
    ticket = world.ticket()
    upload = SimpleUploadedFile("screenshot.png", b"\x89PNG fake", content_type="image/png")
    alice_client.post(
        reverse("tickets:add_message", args=[ticket.pk]),
        {"kind": "reply", "body": "see", "attachments": upload},
    )
    assert ticket.attachments.get().filename == "screenshot.png"


def test_agent_sees_own_ticket_outside_team_in_all_scope(world):
    from relaydesk.tickets.queries import Scope, TicketFilters, filter_tickets

    team_ticket = world.ticket(team=world.americas, subject="team")
    elsewhere = world.ticket(team=world.emea, subject="elsewhere")
    other = world.ticket(team=world.emea, subject="not mine")
    assert set(filter_tickets(world.alice, TicketFilters(scope=Scope.ALL))) == {team_ticket}
    elsewhere.assignee = world.alice  # e.g. escalated to another team but still hers
    elsewhere.save()
    assert set(filter_tickets(world.alice, TicketFilters(scope=Scope.ALL))) == {team_ticket, elsewhere}
    assert other not in filter_tickets(world.bob, TicketFilters(scope=Scope.MINE))
