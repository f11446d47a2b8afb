"""The MIME of outbound mail, as plain functions: subjects, quoting, addresses, the built message."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.mail.outbound_mime import (
    MAX_SUBJECT_LENGTH,
    HeaderValueError,
    MailAddress,
    MailContent,
    OutboundAttachment,
    Quote,
    cap_references,
    fill_placeholders,
    one_line,
    parse_address,
    parse_formatted,
    quote_text,
    render,
    reply_html,
    reply_subject,
    reply_text,
    with_ticket_token,
)

SENT_AT = datetime(2025, 3, 4, 15, 12, tzinfo=UTC)
# No deadline: the machines running the suite are shared, and the email package is not fast.
PROPS = settings(max_examples=200, deadline=None)


def parse(raw: bytes) -> EmailMessage:
    """As a mail client reads the wire bytes: CRLF line ends become newlines."""
    message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(message, EmailMessage)
    return message


def content(**overrides: object) -> MailContent:
    values: dict[str, object] = {
        "sender": MailAddress("Northwind Support", "support@northwind.example"),
        "to": [MailAddress("Carol Customer", "carol@acme.example")],
        "cc": [],
        "subject": "Re: Printer is down [#42]",
        "message_id": "rd.42.7.abcdefghijklmnop@relaydesk.test",
        "in_reply_to": "printer-1@acme.example",
        "references": ["printer-1@acme.example"],
        "date": SENT_AT,
        "text": "Hello Carol\n",
        "html": "<p>Hello Carol</p>",
    }
    values.update(overrides)
    return MailContent(**values)  # type: ignore[arg-type]


# --- subjects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer is down", "Re: Printer is down [#42]"),
        ("Re: Printer is down", "Re: Printer is down [#42]"),
        ("RE: AW: re:Printer is down", "Re: Printer is down [#42]"),
        ("Printer is down [#42]", "Re: Printer is down [#42]"),
        ("Printer\r\nBcc: evil@example.com", "Re: Printer Bcc: evil@example.com [#42]"),
        ("Rebooting the printer", "Re: Rebooting the printer [#42]"),
    ],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject, 42) == expected


def test_reply_subject_fits_the_column_and_keeps_the_token():
    subject = reply_subject("x" * 300, 1234567)
    assert len(subject) == MAX_SUBJECT_LENGTH
    assert subject.startswith("Re: xxx")
    assert subject.endswith("… [#1234567]")


def test_with_ticket_token_adds_it_once():
    assert with_ticket_token("We got it: Printer", 42) == "We got it: Printer [#42]"
    assert with_ticket_token("[#42] We got it", 42) == "[#42] We got it"
    assert len(with_ticket_token("y" * 300, 42)) == MAX_SUBJECT_LENGTH


def test_fill_placeholders_is_plain_substitution_with_one_line_values():
    template = "Hello {name}, request #{number}: {subject} {0.__class__} {unknown}"
    filled = fill_placeholders(
        template, {"name": "Carol\r\nBcc: evil@example.com", "number": "42", "subject": "Printer"}
    )
    assert filled == "Hello Carol Bcc: evil@example.com, request #42: Printer {0.__class__} {unknown}"


def test_one_line_removes_every_control_character():
    assert one_line(" a\r\nb\tc\x00d\u2028e  ") == "a b c d e"


# --- quoting -------------------------------------------------------------------------------


def test_quote_text_prefixes_every_line():
    assert quote_text("first\n\nsecond\n") == "> first\n>\n> second"


def test_reply_text_and_html_carry_the_quote():
    quote = Quote(attribution="On March 4, Carol <c@x> wrote:", text="It stopped.", html="<p>It stopped.</p>")
    assert (
        reply_text("We are on it.", quote)
        == "We are on it.\n\nOn March 4, Carol <c@x> wrote:\n> It stopped.\n"
    )
    html = reply_html("<p>We are on it.</p>", quote)
    assert "<p>We are on it.</p>" in html
    assert "<p>On March 4, Carol &lt;c@x&gt; wrote:</p>" in html
    assert '<blockquote type="cite"' in html
    assert "<p>It stopped.</p></blockquote>" in html
    assert reply_text("Only this.", None) == "Only this.\n"
    assert "blockquote" not in reply_html("<p>Only this.</p>", None)


# --- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "carol@acme.example\r\nBcc: evil@example.com",
        "carol@acme.example\nBcc: evil@example.com",
        "carol@acme.example, evil@example.com",
        "carol @acme.example",
        "carol@",
        "@acme.example",
        "carol",
        "",
        "zoë@acme.example",
        "a@b@c.example",
    ],
)
def test_parse_address_refuses_anything_but_one_plain_address(bad):
    with pytest.raises(HeaderValueError):
        parse_address(bad)


def test_parse_address_cleans_names_and_encodes_domains():
    address = parse_address(" <Carol@Bücher.Example> ", "Carol\r\nBcc: evil@example.com")
    assert address == MailAddress("Carol Bcc: evil@example.com", "Carol@xn--bcher-kva.example")
    assert parse_formatted(address.formatted()) == address
    assert MailAddress("", "carol@acme.example").formatted() == "<carol@acme.example>"
    assert parse_formatted("<carol@acme.example>") == MailAddress("", "carol@acme.example")
    assert MailAddress("Smith, John", "j@acme.example").formatted() == '"Smith, John" <j@acme.example>'


def test_cap_references_keeps_the_root_and_the_newest():
    ids = [f"m{i}@x" for i in range(30)]
    assert cap_references(ids, 20) == ["m0@x", *[f"m{i}@x" for i in range(11, 30)]]
    assert cap_references(["a@x", "a@x", "b@x"], 20) == ["a@x", "b@x"]


# --- the whole message ---------------------------------------------------------------------


def test_render_builds_alternative_parts_and_attachments_with_threading_headers():
    raw = render(
        content(
            cc=[MailAddress("", "dan@acme.example")],
            attachments=[OutboundAttachment("ré port.pdf", "application/pdf", b"%PDF-1.4 test")],
            headers=[("X-Loop", "support@northwind.example")],
            language="de",
        )
    )
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(byte < 128 for byte in raw)  # 7-bit: no SMTPUTF8 or 8BITMIME needed
    message = parse(raw)
    assert message["From"] == "Northwind Support <support@northwind.example>"
    assert message["To"] == "Carol Customer <carol@acme.example>"
    assert message["Cc"] == "dan@acme.example"
    assert message["Message-ID"] == "<rd.42.7.abcdefghijklmnop@relaydesk.test>"
    assert message["In-Reply-To"] == "<printer-1@acme.example>"
    assert message["References"] == "<printer-1@acme.example>"
    assert message["Date"] == "Tue, 04 Mar 2025 15:12:00 +0000"
    assert message["Content-Language"] == "de"
    assert message["X-Loop"] == "support@northwind.example"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert body is not None
    assert body.get_content() == "Hello Carol\n"
    assert html is not None
    assert html.get_content().strip() == "<p>Hello Carol</p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "ré port.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"


def test_render_without_attachments_is_multipart_alternative():
    message = parse(render(content()))
    assert message.get_content_type() == "multipart/alternative"
    assert message["Cc"] is None


def test_render_refuses_a_message_id_with_a_line_break():
    with pytest.raises(HeaderValueError):
        render(content(in_reply_to="a@b\r\nBcc: evil@example.com"))
    with pytest.raises(HeaderValueError):
        render(content(headers=[("X-Bad\r\nBcc", "x")]))
    with pytest.raises(HeaderValueError):
        render(content(to=[]))


def test_attachment_types_that_would_nest_mime_are_sent_as_octet_stream():
    raw = render(
        content(attachments=[OutboundAttachment("x.eml", "message/rfc822", b"Subject: hi\r\n\r\nx")])
    )
    [attachment] = list(parse(raw).iter_attachments())
    assert attachment.get_content_type() == "application/octet-stream"


@PROPS
@given(subject=st.text(), name=st.text(), body=st.text())
def test_no_text_in_a_subject_or_name_adds_a_header(subject, name, body):
    sender = parse_address("support@northwind.example", name)
    raw = render(content(sender=sender, subject=reply_subject(subject, 7), text=body))
    message = parse(raw)
    expected = {"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References"}
    assert set(message.keys()) == expected | {"MIME-Version", "Content-Type"}
    assert "\n" not in str(message["Subject"])
    assert "\r" not in str(message["Subject"])
    [author] = message["From"].addresses
    assert author.addr_spec == "support@northwind.example"
    assert [a.addr_spec for a in message["To"].addresses] == ["carol@acme.example"]


@PROPS
@given(text=st.text(max_size=300))
def test_parse_address_never_returns_a_header_breaking_value(text):
    try:
        address = parse_address(text, text)
    except HeaderValueError:
        return
    assert not any(c.isspace() for c in address.address)
    assert "\r" not in address.name
    assert "\n" not in address.name
    assert address.address.count("@") >= 1
    assert parse_formatted(address.formatted()).address == address.address
