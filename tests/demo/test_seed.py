"""The demo center: loaded once per module (it takes a few seconds), rolled back afterwards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import models, transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from relaydesk.accounts.models import Role, Team, User
from relaydesk.customers.models import Contact, ContactEmail, Organization
from relaydesk.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from relaydesk.notifications.models import Notification
from relaydesk.tickets.actions import do_create_ticket
from relaydesk.tickets.lifecycle import NEEDS_ASSIGNEE
from relaydesk.tickets.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    EventKind,
    Message,
    MessageKind,
    Product,
    Status,
    Tag,
    Ticket,
    TicketEvent,
)

COUNTED: tuple[type[models.Model], ...] = (
    User,
    Team,
    Organization,
    Contact,
    ContactEmail,
    Tag,
    Category,
    Product,
    Ticket,
    Ticket.tags.through,
    Message,
    TicketEvent,
    Notification,
)


@pytest.fixture(scope="module")
def demo_log(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[list[str]]:
    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo(progress=lines.append)
        yield lines
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_log: list[str], db: None) -> list[str]:
    return demo_log


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def test_the_center_is_there(demo):
    assert demo[-1].startswith("demo data loaded in")
    assert any(line.startswith("tickets ") for line in demo)
    assert 15 <= User.objects.count() <= 20
    assert set(Team.objects.values_list("name", flat=True)) >= {"Americas", "EMEA", "APAC"}
    assert Organization.objects.count() == 30
    assert 180 <= Contact.objects.count() <= 260
    assert ContactEmail.objects.count() > Contact.objects.count()  # some people have two addresses
    assert 950 <= Ticket.objects.count() <= 1100
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Ticket.objects.values_list("priority", flat=True)) == {1, 2, 3, 4}
    assert Ticket.objects.filter(priority=1).count() < Ticket.objects.filter(priority=3).count() / 5
    assert set(Ticket.objects.values_list("language", flat=True)) >= {"en", "de", "fr", "es", "ja", "pt"}


def test_demo_sign_ins_work_with_the_published_password(demo):
    roles = {}
    for label, email in DEMO_LOGINS:
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD)
        assert email.endswith("@northwind.example")
        roles[label] = (user.role, user.level)
    assert roles["admin"][0] == Role.ADMIN
    assert roles["supervisor"][0] == Role.SUPERVISOR
    assert roles["L1 agent"] == (Role.AGENT, "l1")
    assert roles["L2 agent"] == (Role.AGENT, "l2")
    assert roles["QA reviewer"][0] == Role.QA_REVIEWER
    assert roles["knowledge owner"][0] == Role.KNOWLEDGE_OWNER
    for user in User.objects.all():
        assert user.languages
        assert user.skills
        assert user.time_zone != "UTC"


def test_second_run_changes_nothing(demo):
    before = counts()
    lines: list[str] = []
    seed_demo(progress=lines.append)
    assert counts() == before
    assert lines == ["demo data is already loaded: nothing to do"]


def test_every_ticket_has_a_created_event_and_its_messages(demo):
    created = Counter(TicketEvent.objects.filter(kind=EventKind.CREATED).values_list("ticket_id", flat=True))
    assert set(created.values()) == {1}
    assert set(created) == set(Ticket.objects.values_list("pk", flat=True))
    assert not Ticket.objects.filter(messages__isnull=True).exists()
    # Merging moves a ticket's messages to the target and leaves a system note on the source.
    merged = set(Ticket.objects.filter(merged_into__isnull=False).values_list("pk", flat=True))
    assert len(merged) >= 2
    for source in Ticket.objects.filter(pk__in=merged):
        assert list(source.messages.values_list("kind", flat=True)) == [MessageKind.SYSTEM]
        assert source.status == Status.CLOSED
        assert source.events.filter(kind=EventKind.MERGED).count() == 1
        assert source.merged_into is not None
        assert source.merged_into.messages.filter(
            kind=MessageKind.SYSTEM, body_text__contains=f"#{source.pk}"
        )


def test_timestamps_agree_with_messages_and_statuses(demo):
    now = timezone.now()
    first_reply = dict(
        Message.objects.filter(kind=MessageKind.REPLY)
        .values("ticket_id")
        .annotate(first=models.Min("created_at"))
        .values_list("ticket_id", "first")
    )
    for ticket in Ticket.objects.all():
        assert ticket.created_at <= ticket.updated_at <= now
        assert ticket.first_response_at == first_reply.get(ticket.pk)
        if ticket.first_response_at:
            assert ticket.first_response_at >= ticket.created_at
        if ticket.status == Status.CLOSED:
            assert ticket.closed_at is not None
            assert ticket.closed_at >= ticket.created_at
        else:
            assert ticket.closed_at is None
        if ticket.status == Status.RESOLVED:
            assert ticket.resolved_at is not None
            assert ticket.resolved_at >= ticket.created_at
        if ticket.status in OPEN_STATUSES:
            assert ticket.resolved_at is None
        if ticket.follow_up_of_id:
            # A follow-up keeps its original's channel but comes from a written reply: no call.
            assert ticket.call_duration_seconds is None
        elif ticket.channel == Channel.PHONE:
            assert ticket.call_duration_seconds
            assert ticket.call_duration_seconds > 0
        else:
            assert ticket.call_duration_seconds is None
    early = Message.objects.filter(created_at__lt=models.F("ticket__created_at"))
    # Only messages moved by a merge can be older than the ticket they now belong to.
    assert not early.exclude(ticket__merged_tickets__isnull=False).exists()
    assert not TicketEvent.objects.filter(created_at__lt=models.F("ticket__created_at")).exists()
    assert not TicketEvent.objects.filter(created_at__gt=now).exists()


def test_statuses_are_where_the_timeline_left_them(demo):
    last_status: dict[int, str] = {}
    for event in TicketEvent.objects.order_by("created_at", "pk").iterator():
        if event.kind == EventKind.CREATED:
            last_status[event.ticket_id] = event.data["status"]
        elif event.kind in (EventKind.STATUS, EventKind.REOPENED):
            assert last_status[event.ticket_id] == event.old_value
            last_status[event.ticket_id] = event.new_value
    assert last_status == dict(Ticket.objects.values_list("pk", "status"))
    assert not Ticket.objects.filter(status__in=NEEDS_ASSIGNEE, assignee__isnull=True).exists()
    reopened = Ticket.objects.filter(reopen_count__gt=0)
    assert reopened.exists()
    for ticket in reopened:
        assert ticket.events.filter(kind=EventKind.REOPENED).count() == ticket.reopen_count


def test_every_team_has_open_tickets_and_links_point_backwards(demo):
    for team in Team.objects.all():
        assert team.tickets.filter(status__in=OPEN_STATUSES).exists(), team.name
    follow_ups = Ticket.objects.filter(follow_up_of__isnull=False).select_related("follow_up_of")
    assert follow_ups.count() >= 5
    for ticket in follow_ups:
        original = ticket.follow_up_of
        assert original is not None
        assert original.status == Status.CLOSED
        assert original.closed_at is not None
        assert original.closed_at <= ticket.created_at
        assert original.pk < ticket.pk
        assert original.events.filter(kind=EventKind.FOLLOW_UP, new_value=str(ticket.pk)).exists()


def test_demo_agents_have_unread_notifications(demo):
    for label, email in DEMO_LOGINS:
        if label in ("L1 agent", "L2 agent"):
            user = User.objects.get(email=email)
            assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() >= 2
    assert not Notification.objects.filter(read_at__lt=models.F("created_at")).exists()


def test_new_rows_get_numbers_after_the_demo(demo):
    highest = Ticket.objects.aggregate(top=models.Max("pk"))["top"]
    highest_message = Message.objects.aggregate(top=models.Max("pk"))["top"]
    ticket = do_create_ticket(
        subject="After the demo", requester=Contact.objects.order_by("pk")[0], body_text="Hello"
    )
    assert ticket.pk > highest
    assert ticket.messages.get().pk > highest_message


def test_demo_has_calendars_for_every_team_and_an_sla_table(demo):
    from relaydesk.accounts.models import Team
    from relaydesk.sla.models import SLAPolicy
    from relaydesk.sla.policies import first_matching

    assert not Team.objects.filter(calendar__isnull=True).exists()
    for team in Team.objects.select_related("calendar"):
        assert team.calendar is not None
        team.calendar.to_engine()  # valid for the engine
    rows = list(SLAPolicy.objects.all())
    chat = first_matching(rows, channel="chat", priority=3, tier="standard", team_id=None)
    outage = first_matching(rows, channel="chat", priority=1, tier="standard", team_id=None)
    email = first_matching(rows, channel="email", priority=4, tier="standard", team_id=None)
    assert [row and row.first_response_minutes for row in (chat, outage, email)] == [5, 30, 8 * 60]
