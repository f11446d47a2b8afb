"""The demo's Recorder must write exactly what tickets.actions writes for the same history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from relaydesk.accounts.models import Level, User
from relaydesk.core.sanitize import text_to_html
from relaydesk.demo.conversations import ISSUES
from relaydesk.demo.phrases import PHRASES
from relaydesk.demo.story import Person, Recorder, TicketRow, number_rows, plain_text_html
from relaydesk.notifications.models import Notification
from relaydesk.tickets.actions import (
    check_merge_ticket,
    do_add_agent_message,
    do_add_customer_message,
    do_change_ticket,
    do_create_ticket,
)
from relaydesk.tickets.models import Channel, Message, MessageKind, Status, Tag, Ticket, TicketEvent

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _run_real_actions(world) -> list[int]:
    """A full life: assignment, questions, escalation, waiting, relapse, closing, follow-up, merge."""
    alice, bob, sam = world.alice, world.bob, world.sam
    with time_machine.travel(at(0), tick=False):
        ticket = do_create_ticket(
            subject="Charged twice",
            requester=world.carol,
            body_text="We were charged twice.",
            team=world.americas,
            tags=["invoice", "refund"],
        )
    steps = [
        (1, lambda: do_change_ticket(ticket, acting_user=None, assignee=alice)),
        (
            30,
            lambda: do_add_agent_message(
                ticket,
                acting_user=alice,
                kind=MessageKind.REPLY,
                body_text="Which dates?",
                new_status=Status.PENDING_CUSTOMER,
            ),
        ),
        (90, lambda: do_add_customer_message(ticket, body_text="Both yesterday.")),
        (
            95,
            lambda: do_add_agent_message(
                ticket, acting_user=alice, kind=MessageKind.NOTE, body_text="@sam ok?"
            ),
        ),
        (96, lambda: do_change_ticket(ticket, acting_user=alice, priority=2, add_tags=["vip"])),
        (
            100,
            lambda: do_change_ticket(
                ticket, acting_user=alice, team=world.emea, assignee=bob, level=Level.L2
            ),
        ),
        (
            120,
            lambda: do_add_agent_message(
                ticket,
                acting_user=bob,
                kind=MessageKind.NOTE,
                body_text="Waiting",
                new_status=Status.PENDING_INTERNAL,
            ),
        ),
        (600, lambda: do_add_customer_message(ticket, body_text="Any news?")),
        (
            900,
            lambda: do_add_agent_message(
                ticket,
                acting_user=bob,
                kind=MessageKind.REPLY,
                body_text="Refunded.",
                new_status=Status.RESOLVED,
            ),
        ),
        (2000, lambda: do_add_customer_message(ticket, body_text="It's back.")),
        (
            2100,
            lambda: do_add_agent_message(
                ticket,
                acting_user=bob,
                kind=MessageKind.REPLY,
                body_text="Fixed again.",
                new_status=Status.RESOLVED,
            ),
        ),
        (8000, lambda: do_change_ticket(ticket, acting_user=None, status=Status.CLOSED)),
    ]
    for minutes, step in steps:
        with time_machine.travel(at(minutes), tick=False):
            step()
    with time_machine.travel(at(9000), tick=False):
        follow_up = do_add_customer_message(ticket, body_text="Happening again.").ticket
    with time_machine.travel(at(9010), tick=False):
        duplicate = do_create_ticket(
            subject="Charged twice again",
            requester=world.carol,
            body_text="Same here.",
            channel=Channel.WEB_FORM,
        )
    with time_machine.travel(at(9030), tick=False):
        check_merge_ticket(sam, duplicate.pk, follow_up.pk)
    return [ticket.pk, follow_up.pk, duplicate.pk]


def _replay(world, rec: Recorder, tags: dict[str, int]) -> list[TicketRow]:
    alice, bob, sam = world.alice.pk, world.bob.pk, world.sam.pk
    common = {"requester_id": world.carol.pk, "organization_id": world.acme.pk, "priority": 3, "level": "l1"}
    common |= {"language": "en", "category_id": None, "product_id": None}
    ticket = rec.create(
        at=at(0),
        subject="Charged twice",
        body_text="We were charged twice.",
        channel=Channel.EMAIL,
        team_id=world.americas.pk,
        tag_ids=[tags["invoice"], tags["refund"]],
        **common,
    )
    rec.change(ticket, at(1), actor_id=None, assignee_id=alice)
    reply, note = MessageKind.REPLY, MessageKind.NOTE
    rec.agent_message(
        ticket,
        at(30),
        agent_id=alice,
        kind=reply,
        body_text="Which dates?",
        new_status=Status.PENDING_CUSTOMER,
    )
    rec.customer_message(ticket, at(90), body_text="Both yesterday.")
    rec.agent_message(ticket, at(95), agent_id=alice, kind=note, body_text="@sam ok?", mentions=[sam])
    rec.change(ticket, at(96), actor_id=alice, priority=2, add_tag_ids=[tags["vip"]])
    rec.change(ticket, at(100), actor_id=alice, team_id=world.emea.pk, assignee_id=bob, level="l2")
    rec.agent_message(
        ticket, at(120), agent_id=bob, kind=note, body_text="Waiting", new_status=Status.PENDING_INTERNAL
    )
    rec.customer_message(ticket, at(600), body_text="Any news?")
    rec.agent_message(
        ticket, at(900), agent_id=bob, kind=reply, body_text="Refunded.", new_status=Status.RESOLVED
    )
    rec.customer_message(ticket, at(2000), body_text="It's back.")
    rec.agent_message(
        ticket, at(2100), agent_id=bob, kind=reply, body_text="Fixed again.", new_status=Status.RESOLVED
    )
    rec.change(ticket, at(8000), actor_id=None, status=Status.CLOSED)
    follow_up = rec.follow_up(ticket, at(9000), body_text="Happening again.")
    duplicate = rec.create(
        at=at(9010),
        subject="Charged twice again",
        body_text="Same here.",
        channel=Channel.WEB_FORM,
        team_id=None,
        **common,
    )
    rec.merge(duplicate, follow_up, at(9030), actor_id=sam)
    return [ticket, follow_up, duplicate]


def _second(value: datetime | None) -> datetime | None:
    # The recorder keeps rows of one step apart by microseconds; the actions share one instant.
    return value.replace(microsecond=0) if value else None


def test_recorder_writes_what_the_actions_write(world):
    real_ids = _run_real_actions(world)
    tags = dict(Tag.objects.values_list("name", "pk"))
    people = {user.pk: Person(id=user.pk, name=str(user)) for user in User.objects.all()}
    rec = Recorder(
        people=people,
        team_names={world.americas.pk: "Americas", world.emea.pk: "EMEA"},
        tag_names={v: k for k, v in tags.items()},
    )
    rows = _replay(world, rec, tags)
    first_message = Message.objects.order_by("pk").values_list("pk", flat=True).first()
    assert first_message is not None
    number_rows(list(rows), first_ticket_id=min(real_ids), first_message_id=first_message)
    assert [row.id for row in rows] == real_ids

    for row in rows:
        real = Ticket.objects.get(pk=row.id)
        assert (real.status, real.priority, real.team_id, real.assignee_id, real.level) == (
            row.status,
            row.priority,
            row.team_id,
            row.assignee_id,
            row.level,
        )
        assert (real.version, real.reopen_count, real.channel) == (row.version, row.reopen_count, row.channel)
        for name in (
            "created_at",
            "updated_at",
            "waiting_since",
            "first_response_at",
            "resolved_at",
            "closed_at",
        ):
            assert getattr(real, name) == _second(getattr(row, name)), name
        assert real.merged_into_id == (row.merged_into.id if row.merged_into else None)
        assert real.follow_up_of_id == (row.follow_up_of.id if row.follow_up_of else None)
        assert sorted(real.tags.values_list("pk", flat=True)) == sorted(row.tag_ids)

        real_events = list(
            TicketEvent.objects.filter(ticket=real).values_list(
                "kind", "actor_id", "field", "old_value", "new_value", "data", "created_at"
            )
        )
        replayed = [
            (e.kind, e.actor_id, e.field, e.old_value, e.new_value, e.data, _second(e.created_at))
            for e in row.events
        ]
        assert replayed == real_events

        real_messages = list(
            Message.objects.filter(ticket=real).values_list(
                "pk", "kind", "direction", "author_user_id", "author_contact_id", "body_text", "created_at"
            )
        )
        replayed_messages = [
            (
                m.id,
                m.kind,
                m.direction,
                m.author_user_id,
                m.author_contact_id,
                m.body_text,
                _second(m.created_at),
            )
            for m in row.messages
        ]
        assert replayed_messages == real_messages

    real_notifications = list(
        Notification.objects.order_by("pk").values_list(
            "recipient_id", "kind", "actor_id", "ticket_id", "text"
        )
    )
    replayed_notifications = [
        (n.recipient_id, n.kind, n.actor_id, n.ticket.id, n.render(world.carol.name))
        for n in rec.notifications
    ]
    assert replayed_notifications == real_notifications
    assert len(real_notifications) >= 6  # assigned, customer replies, the mention, the follow-up


def test_plain_text_html_matches_the_sanitiser_on_every_template():
    texts = ["a & b < c > d\n\nsecond 'quoted' \"para\"\nline", "see https://status.northwind.example now"]
    for issue in ISSUES:
        texts += [issue.opening, issue.short, issue.ask, issue.answer, issue.note, issue.fix]
    for phrases in PHRASES.values():
        texts += [phrases.ack, phrases.escalated, phrases.second_fix, *phrases.thanks, *phrases.reopen]
        for local in phrases.issues.values():
            texts += [local.opening, local.ask, local.fix]
    for text in texts:
        assert plain_text_html(text) == text_to_html(text), text
