"""Properties of the whole intake: store_raw + process_inbound on any input.

Whatever the bytes: processing returns (never raises), the row ends in a terminal status, a
quarantine always comes from the parser's own error type (``MailParseError``: a reason code in
brackets), never from a crash elsewhere, and the HTML stored on messages and their headers holds no
script, event handler or ``javascript:`` URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.mail import outbox
from relaydesk.mail.intake import store_raw
from relaydesk.mail.models import InboundEmail, InboundStatus, Mailbox, MessageHeader
from relaydesk.mail.processing import process_inbound
from relaydesk.mail.thread_refs import make_message_id
from relaydesk.tickets.models import Ticket
from tests.conftest import World
from tests.mail.test_properties import HOSTILE_HTML, assert_safe_html, message, words

pytestmark = pytest.mark.django_db

PIPELINE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TERMINAL = {InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.QUARANTINED}


@dataclass(frozen=True)
class Pipeline:
    mailbox: Mailbox
    ticket: Ticket
    our_message_id: str  # of the ticket's first message, as our reply would carry it


@pytest.fixture
def pipeline(world: World, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    monkeypatch.setattr(outbox, "do_queue_acknowledgement", lambda ticket, **kwargs: None)
    mailbox = Mailbox.objects.create(name="Support", address="support@example.com", team=world.americas)
    ticket = world.ticket()
    first = ticket.messages.get()
    secret = django_settings.SECRET_KEY.encode()
    return Pipeline(
        mailbox, ticket, make_message_id(ticket.pk, first.pk, django_settings.MAIL_ID_DOMAIN, secret)
    )


def run_pipeline(raw: bytes, mailbox: Mailbox) -> InboundEmail:
    row, _ = store_raw(raw, mailbox=mailbox, source="webhook")
    outcome = process_inbound(row.pk)
    row.refresh_from_db()
    assert row.status in TERMINAL
    assert outcome.status == row.status
    if row.status == InboundStatus.QUARANTINED:
        assert not row.reason.startswith(("Unexpected error", "Processing failed")), row.reason
        assert row.reason.endswith(")"), row.reason  # "… (reason_code)" from MailParseError
        assert (row.ticket_id, row.message_id) == (None, None)
    if row.status == InboundStatus.PROCESSED:
        message = row.message
        assert message is not None
        assert_safe_html(message.body_html)
        header = MessageHeader.objects.get(message=message)
        assert_safe_html(header.original_html)
        assert_safe_html(header.quoted_html)
    return row


def threading_headers(pipeline: Pipeline) -> st.SearchStrategy[bytes]:
    ticket, ours = pipeline.ticket, pipeline.our_message_id
    forged = ours.replace(f"rd.{ticket.pk}.", f"rd.{ticket.pk + 7}.")
    return st.lists(
        st.sampled_from(
            [
                f"In-Reply-To: {ours}",
                f"References: <x@y.example> {ours}",
                f"In-Reply-To: {forged}",
                f"Subject: Re: [#{ticket.pk}] Printer",
                "Subject: [#99999999999999999999] big",
                "Auto-Submitted: auto-replied",
                "From: carol@acme.example",
                "From: MAILER-DAEMON@mx.example",
                "From: support@example.com",
                "Cc: jane@acme.example, support@example.com, =?utf-8?q?bad?= <bad@@x>",
                "Reply-To: <>",
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
            ]
        ),
        max_size=4,
    ).map(lambda lines: "".join(f"{line}\r\n" for line in lines).encode())


@PIPELINE
@given(raw=st.binary(max_size=2000))
def test_any_bytes_end_in_a_terminal_status(pipeline: Pipeline, raw: bytes) -> None:
    run_pipeline(raw, pipeline.mailbox)


@PIPELINE
@given(data=st.data())
def test_generated_mail_with_threading_headers_ends_in_a_terminal_status_and_safe_html(
    pipeline: Pipeline, data: st.DataObject
) -> None:
    raw = data.draw(threading_headers(pipeline)) + data.draw(message())
    run_pipeline(raw, pipeline.mailbox)


@PIPELINE
@given(parts=st.lists(st.one_of(words, st.sampled_from(HOSTILE_HTML)), min_size=1, max_size=8))
def test_hostile_html_is_stored_sanitised(pipeline: Pipeline, parts: list[str]) -> None:
    html = "".join(parts)
    raw = (
        "From: Mallory <mallory@evil.example>\r\nTo: support@example.com\r\nSubject: look\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode("utf-8", "surrogateescape")
    row = run_pipeline(raw, pipeline.mailbox)
    assert row.status == InboundStatus.PROCESSED
