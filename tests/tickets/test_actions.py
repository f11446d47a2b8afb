import pytest
from django.core import mail

from relaydesk.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from relaydesk.notifications.models import Notification, NotificationKind
from relaydesk.tickets.actions import (
    NewAttachment,
    check_add_message,
    check_change_ticket,
    check_create_ticket,
    check_merge_ticket,
    do_add_customer_message,
)
from relaydesk.tickets.models import Channel, EventKind, MessageKind, Status, Ticket, TicketEvent


def test_create_ticket_on_behalf_writes_events_and_first_message(world):
    ticket = check_create_ticket(
        world.alice,
        subject="  Phone:\r\n cannot log in ",
        requester=world.carol,
        body_text="Customer called, password reset loops.",
        channel=Channel.PHONE,
        call_duration_seconds=312,
        tags=["Login", "password reset"],
        description_is_note=True,
    )
    assert ticket.subject == "Phone: cannot log in"
    assert ticket.team == world.americas  # the agent's own team by default
    assert ticket.organization == world.acme
    assert ticket.call_duration_seconds == 312
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["login", "password-reset"]
    assert [m.kind for m in ticket.messages.all()] == [MessageKind.NOTE]
    assert list(ticket.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.TAGS,
        EventKind.MESSAGE,
    ]


def test_agent_cannot_create_for_another_team(world):
    with pytest.raises(Exception, match="own teams"):
        check_create_ticket(world.alice, subject="x", requester=world.carol, body_text="y", team=world.emea)
    assert not Ticket.objects.exists()


def test_reply_sets_first_response_takes_ownership_and_moves_to_in_progress(world):
    ticket = world.ticket()
    check_add_message(world.alice, ticket.pk, kind=MessageKind.REPLY, body_text="We're on it.")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.assignee == world.alice
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.version == 2


def test_internal_note_is_kept_apart_and_mentions_notify(world):
    ticket = world.ticket()
    check_add_message(
        world.alice, ticket.pk, kind=MessageKind.NOTE, body_text="@sam can you approve a refund?"
    )
    note = ticket.messages.get(kind=MessageKind.NOTE)
    assert note.direction == "internal"
    assert note.is_internal
    notification = Notification.objects.get(recipient=world.sam)
    assert notification.kind == NotificationKind.MENTION
    assert ticket.first_response_at is None


def test_mention_notification_emails_when_wanted(world, django_capture_on_commit_callbacks):
    ticket = world.ticket()
    world.sam.email_notifications = {NotificationKind.MENTION: True}
    world.sam.save()
    with django_capture_on_commit_callbacks(execute=True):
        check_add_message(world.alice, ticket.pk, kind=MessageKind.NOTE, body_text="Ping @sam")
    assert [m.to for m in mail.outbox] == [["sam@relaydesk.test"]]
    assert "\n" not in mail.outbox[0].subject


def test_customer_reply_reopens_resolved_ticket(world):
    ticket = world.ticket(assignee=world.alice)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.RESOLVED)
    ticket.refresh_from_db()
    do_add_customer_message(ticket, body_text="Still broken!")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None
    assert Notification.objects.filter(recipient=world.alice, kind=NotificationKind.CUSTOMER_REPLY).exists()


def test_customer_reply_to_closed_ticket_opens_linked_follow_up(world):
    ticket = world.ticket(assignee=world.alice)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.RESOLVED)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.CLOSED)
    ticket.refresh_from_db()
    message = do_add_customer_message(ticket, body_text="It broke again.")
    follow_up = message.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.channel == ticket.channel
    assert follow_up.follow_up_of == ticket
    assert follow_up.status == Status.ASSIGNED
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.events.filter(kind=EventKind.FOLLOW_UP).exists()


def test_illegal_transition_is_a_clear_error_and_changes_nothing(world):
    ticket = world.ticket(assignee=world.alice)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.RESOLVED)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.CLOSED)
    before = TicketEvent.objects.count()
    with pytest.raises(IllegalTransition, match="cannot go from Closed"):
        check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.IN_PROGRESS)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert TicketEvent.objects.count() == before


def test_second_save_against_old_version_is_a_conflict(world):
    ticket = world.ticket()
    version = ticket.version
    check_change_ticket(world.alice, ticket.pk, expected_version=version, priority=1)
    with pytest.raises(Conflict):
        check_change_ticket(world.sam, ticket.pk, expected_version=version, priority=4)
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_agent_of_other_team_cannot_touch_ticket(world):
    ticket = world.ticket(team=world.americas)
    events_before = TicketEvent.objects.count()
    with pytest.raises(NotFound):
        check_change_ticket(world.bob, ticket.pk, expected_version=None, priority=1)
    with pytest.raises(NotFound):
        check_add_message(world.bob, ticket.pk, kind=MessageKind.NOTE, body_text="hi")
    ticket.refresh_from_db()
    assert ticket.priority == 3
    assert ticket.messages.count() == 1
    assert TicketEvent.objects.count() == events_before


def test_assignment_notifies_and_unassignment_returns_to_new(world):
    ticket = world.ticket()
    check_change_ticket(world.sam, ticket.pk, expected_version=None, assignee=world.alice)
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert Notification.objects.filter(recipient=world.alice, kind=NotificationKind.ASSIGNED).count() == 1
    check_change_ticket(world.sam, ticket.pk, expected_version=None, assignee=None)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_deactivated_user_cannot_be_assigned(world):
    world.bob.is_active = False
    world.bob.save()
    ticket = world.ticket()
    with pytest.raises(ValidationFailed, match="deactivated"):
        check_change_ticket(world.sam, ticket.pk, expected_version=None, assignee=world.bob)


def test_merge_moves_messages_and_closes_source(world):
    source = world.ticket(subject="Dup")
    target = world.ticket(subject="Original")
    check_merge_ticket(world.sam, source.pk, target.pk)
    source.refresh_from_db()
    assert source.merged_into == target
    assert source.status == Status.CLOSED
    assert target.messages.count() == 3  # both first messages plus the system note
    assert list(source.messages.values_list("kind", flat=True)) == [MessageKind.SYSTEM]


def test_oversized_attachment_is_refused(world, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    ticket = world.ticket()
    with pytest.raises(ValidationFailed, match="larger than"):
        check_add_message(
            world.alice,
            ticket.pk,
            kind=MessageKind.REPLY,
            body_text="see file",
            attachments=[NewAttachment("big.bin", "application/octet-stream", b"x" * 11)],
        )
    assert ticket.messages.count() == 1


def test_hostile_html_is_sanitised(world):
    ticket = world.ticket()
    message = check_add_message(
        world.alice,
        ticket.pk,
        kind=MessageKind.NOTE,
        body_html='<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">l</a></p>',
    )
    assert "script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "javascript:" not in message.body_html
    assert message.body_text.startswith("hi")


def test_follow_up_takes_the_channel_the_reply_came_by(world):
    ticket = world.ticket(assignee=world.alice, channel=Channel.PHONE)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.RESOLVED)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.CLOSED)
    ticket.refresh_from_db()
    message = do_add_customer_message(ticket, body_text="Writing by email now.", channel=Channel.EMAIL)
    assert message.ticket.channel == Channel.EMAIL
