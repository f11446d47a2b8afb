"""parse_message over the hand-written corpus (exact fields per file) and the limits and helpers."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from pathlib import Path
from typing import Any

import pytest

from relaydesk.mail import parsing
from relaydesk.mail.parsing import (
    BounceInfo,
    Limits,
    MailParseError,
    ParsedMail,
    check_limits,
    decode_bytes,
    decode_rfc2047,
    normalize_address,
    normalize_message_id,
    parse_message,
    safe_filename,
)

CORPUS = Path(__file__).parent / "corpus"
OUR_ID = "rd.1234.98765.4h32sig7ojlq4sfs@support.example.com"
OLDER_ID = "rd.1234.98764.pim7jze3dilzn243@support.example.com"
CET = timezone(timedelta(hours=1))


def corpus(name: str) -> ParsedMail:
    return parse_message((CORPUS / name).read_bytes())


def files(*entries: tuple[str, str | None, str | None, bool]) -> list[tuple[str, str, str | None, bool]]:
    """Expected attachments as (filename, content type, content id, inline); None = any type."""
    return [(name, ctype or "", cid, inline) for name, ctype, cid, inline in entries]


def attachment_summary(parsed: ParsedMail) -> list[tuple[str, str, str | None, bool]]:
    return [(a.filename, a.content_type, a.content_id, a.is_inline) for a in parsed.attachments]


# Each file: the fields it exists to show, compared exactly. A callable is a predicate instead.
EXPECTED: dict[str, dict[str, Any]] = {
    "plain-utf8.eml": {
        "message_id": "CAF1234.5678@mail.acme.example",
        "subject": "Invoice 2024-117 is charged twice",
        "from_address": "Carol@acme.example",
        "from_name": "Carol Jones",
        "reply_to": ["billing@acme.example"],
        "to": [("Support", "support@example.com")],
        "cc": [("Doe, Jane", "jane.doe@acme.example"), ("Bob", "bob@acme.example")],
        "delivered_to": ["support@example.com"],
        "date": datetime(2024, 1, 2, 14, 15, tzinfo=UTC),
        "text": "Hello,\n\nour card was charged twice for invoice 2024-117 (€ 49,00 each).\n"
        "Could you refund one of them?\n\nThanks,\nCarol",
        "html": None,
        "attachments": [],
        "return_path": "carol@acme.example",
        "content_type": "text/plain",
        "is_bounce": False,
        "defects": [],
        "raw_size": 592,
    },
    "html-only-newsletter.eml": {
        "text": "5 gadgets you need\nOur picks for this week:\n\nA lamp\nA kettle\n\nUnsubscribe",
        "html": lambda html: html.strip().startswith("<h1>5 gadgets you need</h1>") and "<style" not in html,
        "has_remote_images": True,
        "list_id": "Gadget Weekly <weekly.gadgets.example>",
        "precedence": "bulk",
        "content_type": "text/html",
    },
    "rfc2231-filename.eml": {
        "attachments": files(
            ("Angebot für Müller.pdf", "application/pdf", None, False),
            ("Preisliste € 2024.xls", "application/vnd.ms-excel", None, False),
        ),
        "text": "Anbei das Angebot und die Preisliste.",
    },
    "rfc2047-filename.eml": {
        "from_name": "François Lévesque",
        "subject": "Réclamation facture",
        "attachments": files(("Facture décembre.pdf", "application/pdf", None, False)),
    },
    "8bit-headers.eml": {
        "from_name": "Jürgen Müller",
        "subject": "Grüße – Rückfrage zur Lieferung",
        "text": "Wann kommt die Lieferung? Viele Grüße",
    },
    "8bit-headers-latin1.eml": {
        "from_name": "Ana Pérez",
        "subject": "Pedido número 12",
        "text": "¿Dónde está mi pedido?",
    },
    "lying-charset.eml": {
        "text": "Très cher service, la pièce est cassée. Voilà.",
        "defects": ["charset_fallback"],
    },
    "ascii-but-utf8.eml": {
        "text": "こんにちは、注文について質問があります。",
        "defects": ["charset_fallback"],
    },
    "unknown-charset.eml": {
        "subject": "Qapla'",
        "text": "Success – the naïve café order arrived.",
        "defects": ["charset_fallback"],
    },
    "crlf-windows-1252.eml": {
        "from_name": "O'Brien, Sean",
        "subject": "“Quoted” subject – dash",
        "text": "It’s “broken” – again.\nSecond line.",
    },
    "quoted-printable-latin1.eml": {
        "from_name": "Jürgen Köhler",
        "subject": "Überweisung für März",
        "text": "Grüße aus Köln, die Überweisung für März ist unterwegs.",
        "defects": [],
    },
    "utf16-base64.eml": {"text": "Hello über UTF-16"},
    "broken-base64.eml": {"text": lambda text: text.startswith("Hello, the base64 is cut")},
    "tnef-winmail.eml": {
        "text": "Please see the attached screenshots.",
        "attachments": files(("winmail.dat", "application/ms-tnef", None, False)),
    },
    "forwarded-rfc822.eml": {
        "text": "See below, the parcel never arrived.",
        "attachments": files(("forwarded-message.eml", "message/rfc822", None, False)),
        "in_reply_to": [],
        "references": [],
    },
    "calendar-invite.eml": {
        "text": "Let's walk through the setup on Friday.",
        "html": "<p>Let's walk through the setup on <b>Friday</b>.</p>",
        "attachments": files(("invite.ics", "text/calendar", None, False)),
        "date": datetime(2024, 1, 10, 6, 30, tzinfo=UTC),
    },
    "smime-signed.eml": {
        "text": "We confirm the contract change as of 1 February.",
        "attachments": files(("smime.p7s", "application/pkcs7-signature", None, False)),
        "is_signed": True,
        "is_encrypted": False,
    },
    "smime-encrypted.eml": {
        "text": "This message is encrypted (S/MIME) and cannot be shown; the encrypted original is "
        "attached as smime.p7m.",
        "attachments": files(("smime.p7m", "application/pkcs7-mime", None, False)),
        "is_encrypted": True,
        "html": None,
    },
    "pgp-encrypted.eml": {
        "is_encrypted": True,
        "text": "This message is encrypted (OpenPGP) and cannot be shown; "
        "the encrypted original is attached.",
        "attachments": files(
            ("pgp-version.txt", "application/pgp-encrypted", None, False),
            ("encrypted.asc", "application/octet-stream", None, False),
        ),
    },
    "bounce-dsn.eml": {
        "is_bounce": True,
        "report_type": "delivery-status",
        "bounce": BounceInfo(
            original_message_id="rd.555.9001.fntpw334cgloibmo@support.example.com",
            failed_recipients=["gone@customer.example"],
            status="5.1.1",
        ),
        "return_path": "",
        "from_address": "MAILER-DAEMON@mx.example.com",
        "attachments": files(
            ("delivery-status.txt", "message/delivery-status", None, False),
            ("forwarded-message.eml", "message/rfc822", None, False),
        ),
        "in_reply_to": [],
    },
    "bounce-headers-only.eml": {
        "is_bounce": True,
        "bounce": BounceInfo(
            original_message_id="rd.77.501.52whfculbwv3mojl@support.example.com",
            failed_recipients=["nobody@old.example"],
            status="5.2.1",
        ),
        "attachments": files(
            ("delivery-status.txt", "message/delivery-status", None, False),
            ("original-headers.txt", "text/rfc822-headers", None, False),
        ),
    },
    "read-receipt-mdn.eml": {
        "is_bounce": False,
        "bounce": None,
        "report_type": "disposition-notification",
        "text": "Your message was read on Friday.",
        "attachments": files(
            ("disposition-notification.txt", "message/disposition-notification", None, False)
        ),
    },
    "mailer-daemon-plain.eml": {"from_address": "MAILER-DAEMON@oldhost.example", "is_bounce": False},
    "auto-reply-ooo.eml": {
        "auto_submitted": "auto-replied",
        "x_auto_response_suppress": "All",
        "in_reply_to": [OUR_ID],
    },
    "mailing-list.eml": {"list_id": "Relaydesk users <users.lists.example>", "precedence": "list"},
    "x-loop.eml": {"x_loop": "help@vendor.example"},
    "our-own-message.eml": {"message_id": OUR_ID},
    "missing-boundary.eml": {
        "text": "The app crashes when I upload a photo.",
        "attachments": files(("crash.png", "image/png", None, False)),
        "defects": ["NoBoundaryInMultipartDefect", "MultipartInvariantViolationDefect", "boundary_recovered"],
    },
    "wrong-boundary.eml": {
        "text": "Sending it again, sorry.",
        "defects": ["StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect", "boundary_recovered"],
    },
    "no-message-id.eml": {
        "message_id": None,
        "date": None,
        "from_address": "old-system@legacy.example",
        "from_name": "",
        "text": "Job finished with 0 errors.",
    },
    "garbage-message-id.eml": {
        "message_id": None,
        "in_reply_to": [],
        "references": ["ok-one@example.org", "spaced@example.org"],
        "date": None,
    },
    "script-in-html.eml": {
        "html": "\n\n<p>Hi, my screenshot:</p>\n"
        '<img src="cid:shot1@evil.example" alt="screenshot">\n'
        '<img src="https://evil.example/pixel.gif">\n'
        '<a rel="noopener noreferrer nofollow">click</a>\n'
        '<a rel="noopener noreferrer nofollow">again</a>\n'
        '<a href="https://help.example/faq" rel="noopener noreferrer nofollow">FAQ</a>\n\n\n'
        "<div>styled</div>\n",
        "text": "Hi, my screenshot:\n\nclick\nagain\nFAQ\n\nstyled",
        "has_remote_images": True,
        "attachments": files(("attachment.png", "image/png", "shot1@evil.example", True)),
    },
    "nested-related-inline-image.eml": {
        "text": "The logo is cut off, see the picture.",
        "html": '<p>The logo is cut off, see the picture:</p><img src="cid:logo@design.example" alt="logo">',
        "has_remote_images": False,
        "attachments": files(
            ("logo.png", "image/png", "logo@design.example", True),
            ("brand-guide.pdf", "application/pdf", "guide@design.example", False),
        ),
    },
    "path-traversal-filename.eml": {
        "attachments": files(
            ("evil.exe", "application/octet-stream", None, False),
            ("invoicefdp.exe", "application/octet-stream", None, False),
            ("authorized_keys", "application/octet-stream", None, False),
            ("attachment.gif", "image/gif", None, False),
        ),
    },
    "groups-and-undisclosed.eml": {
        "to": [],
        "cc": [("Ann", "ann@agency.example"), ("", "bo@agency.example")],
    },
    "header-injection-subject.eml": {
        "subject": "Refund Bcc: victim@corp.example fake body",
        "from_name": "Eve Bcc: everyone@corp.example",
        "from_address": "eve@evil.example",
        "to": [("", "support@example.com")],
        "cc": [],
    },
    "outlook-reply.eml": {
        "in_reply_to": [OUR_ID],
        "references": [OLDER_ID, OUR_ID],
        "new_text": "Restarting the spooler fixed it, thank you!\n\nOlivia",
        "quoted_text": lambda quoted: quoted.startswith("-----Original Message-----\nFrom: Support"),
        "new_html": "<div>Restarting the spooler fixed it, thank you!</div><div>Olivia</div>\n",
        "quoted_html": lambda quoted: quoted.startswith("<div></div>\n<hr>\n<div><b>From:</b> Support"),
    },
    "gmail-reply-de.eml": {
        "new_text": "Vielen Dank, jetzt funktioniert es wieder!",
        "quoted_text": "Am Fr., 19. Jan. 2024 um 16:00 Uhr schrieb Support <support@example.com\n>:\n\n"
        "> Bitte starten Sie den Druckdienst neu.\n>",
        "new_html": "<div>Vielen Dank, jetzt funktioniert es wieder!</div><br>",
        "quoted_html": lambda quoted: (
            quoted.startswith("<div><div>Am Fr., 19. Jan. 2024 um 16:00 Uhr schrieb")
            and quoted.endswith("<blockquote>Bitte starten Sie den Druckdienst neu.</blockquote></div>")
        ),
    },
    "apple-mail-reply-fr.eml": {
        "subject": "Re : [#1234] Imprimante",
        "from_name": "Chloé Martin",
        "message_id": "4F2A-APPLE@maison.example",
        "new_text": "Merci, c’est réglé.",
        "quoted_text": "> Le 23 janv. 2024 à 18:00, Support <support@example.com> a écrit :\n> \n"
        "> Avez-vous redémarré l’imprimante ?",
        "new_html": "<div>Merci, c’est réglé.</div>",
        "quoted_html": lambda quoted: quoted.startswith("<div><br><blockquote><div>Le 23 janv. 2024"),
    },
    "thunderbird-reply-es.eml": {
        "new_text": "Ya funciona, gracias.",
        "quoted_text": "-- \nJavier Ruiz\nJefe de sistemas\n\nEl 24/1/24 a las 18:00, Support escribió:\n"
        "> ¿Ha reiniciado la impresora?",
    },
    "reply-pt-nl.eml": {
        "new_text": "Obrigado, resolvido.",
        "quoted_text": lambda quoted: quoted.startswith("Em qui., 25 de jan. de 2024 às 09:00, Support"),
    },
    "iphone-signature.eml": {
        "new_text": "I cannot log in since the update.",
        "quoted_text": "Sent from my iPhone",
    },
    "signature-delimiter.eml": {
        "new_text": "Bitte ändern Sie unsere Rechnungsadresse auf Hauptstraße 5.",
        "quoted_text": "-- \nInes Wagner | Buchhaltung\nFirma GmbH, Hauptstraße 5",
    },
    "reply-with-our-token.eml": {
        "in_reply_to": [OUR_ID],
        "references": ["CAF1234.5678@mail.acme.example", OLDER_ID, OUR_ID],
        "new_text": "Got the refund, thanks.",
    },
    "forged-token.eml": {"in_reply_to": ["rd.1235.98765.4h32sig7ojlq4sfs@support.example.com"]},
    "plus-address-reply.eml": {
        "to": [("Example Support", "support+t42.indjoxpu474ii46g@example.com")],
        "new_text": "It arrived today, all good.",
    },
    "subject-token.eml": {"subject": "Re: [#1234] Printer does not print [#99]"},
}


def test_every_corpus_file_has_expectations() -> None:
    on_disk = {path.name for path in CORPUS.glob("*.eml")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name: str) -> None:
    parsed = corpus(name)
    for field_name, expected in EXPECTED[name].items():
        actual = attachment_summary(parsed) if field_name == "attachments" else getattr(parsed, field_name)
        if callable(expected):
            assert expected(actual), f"{name}: {field_name} = {actual!r}"
        else:
            assert actual == expected, f"{name}: {field_name}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_invariants(name: str) -> None:
    """What must hold for every message: one-line headers, aware dates, safe names, no NUL."""
    parsed = corpus(name)
    assert "\r" not in parsed.subject
    assert "\n" not in parsed.subject
    assert "\n" not in parsed.from_name
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert "\x00" not in parsed.text
    assert parsed.raw_size == (CORPUS / name).stat().st_size
    for attachment in parsed.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename
        assert "\\" not in attachment.filename
        assert not attachment.filename.startswith(".")
    if parsed.html is None:
        assert parsed.new_html is None
        assert parsed.quoted_html is None


def test_attachment_contents_are_decoded() -> None:
    tnef = corpus("tnef-winmail.eml").attachments[0]
    assert tnef.content.startswith(b"\x78\x9f\x3e\x22")  # TNEF signature, left undecoded
    assert tnef.size == len(tnef.content)
    pdf = corpus("rfc2231-filename.eml").attachments[0]
    assert pdf.content == b"%PDF-1.4\n"


def test_forwarded_message_is_kept_whole_as_eml() -> None:
    eml = corpus("forwarded-rfc822.eml").attachments[0].content
    assert b"Message-ID: <inner-5521@store.example>" in eml
    assert b"Your order 5521 is on its way." in eml
    inner = parse_message(eml)
    assert inner.subject == "Your order 5521 has shipped"


def test_calendar_invite_content() -> None:
    invite = corpus("calendar-invite.eml").attachments[0]
    assert invite.content.startswith(b"BEGIN:VCALENDAR")


# --- limits ---------------------------------------------------------------------------------------


def simple(body: str = "hi", headers: str = "") -> bytes:
    return f"From: a@example.com\nSubject: s\n{headers}\n{body}\n".encode()


def nested_multipart(depth: int) -> bytes:
    head = "From: a@example.com\n"
    body = "text\n"
    for level in range(depth, 0, -1):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n' + body + f"--b{level}--\n"
        )
    return (head + body).encode()


def test_too_large() -> None:
    with pytest.raises(MailParseError) as error:
        parse_message(simple("x" * 2000), limits=Limits(max_bytes=1000))
    assert error.value.reason == "too_large"
    assert "limit is 1000 bytes" in str(error.value)


def test_too_many_headers() -> None:
    headers = "".join(f"X-Filler-{i}: {i}\n" for i in range(20))
    with pytest.raises(MailParseError) as error:
        parse_message(simple(headers=headers), limits=Limits(max_headers=10))
    assert error.value.reason == "too_many_headers"


def test_folded_lines_are_not_counted_as_headers() -> None:
    folded = "References: <a@b>\n" + "".join(f" <r{i}@example.com>\n" for i in range(50))
    parsed = parse_message(simple(headers=folded), limits=Limits(max_headers=10))
    assert len(parsed.references) == 51


def test_header_line_too_long() -> None:
    with pytest.raises(MailParseError) as error:
        parse_message(simple(headers="X-Long: " + "a" * 5000 + "\n"), limits=Limits(max_header_line=1000))
    assert error.value.reason == "header_too_long"


def test_too_many_parts() -> None:
    parts = "".join("--sep\nContent-Type: text/plain\n\npart\n" for _ in range(30))
    raw = f'From: a@example.com\nContent-Type: multipart/mixed; boundary="sep"\n\n{parts}--sep--\n'.encode()
    with pytest.raises(MailParseError) as error:
        parse_message(raw, limits=Limits(max_parts=10))
    assert error.value.reason == "too_many_parts"
    assert parse_message(raw).text.split("\n\n") == ["part"] * 30


def test_too_deep_multipart() -> None:
    assert parse_message(nested_multipart(5)).text == "text"
    with pytest.raises(MailParseError) as error:
        check_limits(nested_multipart(12))
    assert error.value.reason == "too_deep"
    with pytest.raises(MailParseError):
        parse_message(nested_multipart(12))


def test_forwarded_chains_stay_opaque_and_parser_recursion_is_too_deep() -> None:
    # Embedded messages are attachments, never walked: a short chain is fine...
    raw = b"From: a@example.com\n" + b"Content-Type: message/rfc822\n\n" * 3 + b"Subject: inner\n\nbody\n"
    assert attachment_summary(parse_message(raw)) == [
        ("forwarded-message.eml", "message/rfc822", None, False)
    ]
    # ...and one deep enough to exhaust the stdlib parser's recursion is refused, not a crash.
    deep = b"From: a@example.com\n" + b"Content-Type: message/rfc822\n\n" * 2000 + b"\nbody\n"
    with pytest.raises(MailParseError) as error:
        parse_message(deep)
    assert error.value.reason == "too_deep"


def test_nesting_the_cheap_scan_cannot_see_is_caught_by_the_walk() -> None:
    # RFC 2231 spells the parameter "boundary*"; the byte scan does not read that form.
    raw = "From: a@example.com\n"
    for level in range(8):
        raw += f"Content-Type: multipart/mixed; boundary*=''b{level}\n\n--b{level}\n"
    raw += "Content-Type: text/plain\n\nend\n"
    check_limits(raw.encode(), Limits(max_depth=5))
    with pytest.raises(MailParseError) as error:
        parse_message(raw.encode(), limits=Limits(max_depth=5))
    assert error.value.reason == "too_deep"
    assert parse_message(raw.encode()).text == "end"


def test_parts_over_the_limit_inside_recovered_multipart() -> None:
    parts = "".join("--zz\nContent-Type: text/plain\n\np\n" for _ in range(15))
    raw = f"From: a@example.com\nContent-Type: multipart/mixed\n\n{parts}--zz--\n".encode()
    with pytest.raises(MailParseError) as error:
        parse_message(raw, limits=Limits(max_parts=10))
    assert error.value.reason == "too_many_parts"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty"), (b"  \r\n\r\n ", "empty"), ("text", "not_bytes")],
)
def test_unusable_input(raw: Any, reason: str) -> None:
    with pytest.raises(MailParseError) as error:
        parse_message(raw)
    assert error.value.reason == reason
    assert error.value.message


def test_mail_parse_error_survives_pickling() -> None:
    pickled = pickle.dumps(MailParseError("too_large", "The message is too large."))
    error = pickle.loads(pickled)  # noqa: S301 (our own bytes, made one line above)
    assert error.reason == "too_large"
    assert str(error) == error.message == "The message is too large."


def test_bytearray_and_memoryview_are_accepted() -> None:
    assert parse_message(bytearray(simple("hello"))).text == "hello"
    assert parse_message(memoryview(simple("hello"))).text == "hello"


def test_headers_only_and_body_only_input() -> None:
    assert parse_message(b"Subject: only headers\n").subject == "only headers"
    body_only = parse_message(b"just some words without any header")
    assert body_only.from_address is None
    assert body_only.message_id is None


def test_html_nested_too_deep_is_kept_as_attachment_only() -> None:
    deep = "<div>" * 50 + "deep words" + "</div>" * 50
    raw = f"From: a@example.com\nContent-Type: text/html\n\n{deep}\n".encode()
    parsed = parse_message(raw, limits=Limits(max_html_depth=20))
    assert parsed.html is None
    assert parsed.text == "deep words"
    assert "html_too_deep" in parsed.defects
    assert attachment_summary(parsed) == [("message.html", "text/html", None, False)]
    assert parse_message(raw).html is not None


def test_an_unexpected_error_falls_back_to_compat32(monkeypatch: pytest.MonkeyPatch) -> None:
    real_build = parsing._build

    def build(raw: bytes, msg: Any, limits: Limits) -> ParsedMail:
        if msg.policy is parsing.PARSE_POLICY:
            raise IndexError("stdlib header parser bug")
        return real_build(raw, msg, limits)

    monkeypatch.setattr(parsing, "_build", build)
    parsed = parse_message(simple("hello"))
    assert parsed.text == "hello"
    assert parsed.defects == ["compat32_fallback"]


def test_when_both_policies_fail_the_error_is_a_mail_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(raw: bytes, msg: Any, limits: Limits) -> ParsedMail:
        raise AttributeError("boom")

    monkeypatch.setattr(parsing, "_build", build)
    with pytest.raises(MailParseError) as error:
        parse_message(simple())
    assert error.value.reason == "malformed"
    assert "AttributeError: boom" in error.value.message


def test_recursion_error_becomes_too_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(raw: bytes, msg: Any, limits: Limits) -> ParsedMail:
        raise RecursionError

    monkeypatch.setattr(parsing, "_build", build)
    with pytest.raises(MailParseError) as error:
        parse_message(simple())
    assert error.value.reason == "too_deep"


# --- header and body details ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<Abc.123@Mail.Example.COM>", "Abc.123@mail.example.com"),
        ("  <abc@example.com>  (comment)", "abc@example.com"),
        ("<abc\r\n @example.com>", "abc@example.com"),
        ("abc@example.com", "abc@example.com"),
        ("<>", None),
        ("no-at-sign", None),
        ("<@example.com>", None),
        ("<abc@>", None),
        ("<ünïcode@example.com>", None),
        ("<" + "a" * 300 + "@example.com>", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_message_id(value: str | None, expected: str | None) -> None:
    assert normalize_message_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ann@Example.COM", "Ann@example.com"),
        ("<ann@example.com.>", "ann@example.com"),
        ("ann example@x.com", None),
        ("ann@", None),
        ("@x.com", None),
        ("ann@x.com\n", "ann@x.com"),
        ("an\x00n@x.com", None),
    ],
)
def test_normalize_address(value: str, expected: str | None) -> None:
    assert normalize_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?=", "café"),
        ("=?utf-8?b?Y2Fmw6k=?=", "café"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between encoded words is dropped
        ("=?utf-8?q?a?= plain =?utf-8?q?b?=", "a plain b"),
        ("=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "é"),  # one character split across two words
        ("=?UTF-8*en?Q?hello?=", "hello"),  # RFC 2231 language tag
        ("=?x-unknown?q?caf=C3=A9?=", "café"),
        ("=?iso-8859-1?q?caf=E9?=", "café"),
        ("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="),
        ("no words", "no words"),
        ("x=?utf-8?q?y?=", "xy"),
    ],
)
def test_decode_rfc2047(value: str, expected: str) -> None:
    assert decode_rfc2047(value) == expected


@pytest.mark.parametrize(
    ("data", "charset", "expected", "fell_back"),
    [
        ("Grüße".encode(), "utf-8", "Grüße", False),
        ("Grüße".encode("latin-1"), "utf-8", "Grüße", True),
        ("Grüße".encode(), "us-ascii", "Grüße", True),
        ("Grüße".encode(), "no-such-charset", "Grüße", True),
        ("€".encode("cp1252"), "iso-8859-1", "€", False),
        ("日本".encode("shift_jis"), "x-sjis", "日本", False),
        (b"\\u0041", "unicode_escape", "\\u0041", False),  # never turns escapes into characters
        (b"a\x00b", "utf-8", "ab", False),
        ("ok ✓".encode() + b"\xff", "utf-8", "ok ✓\ufffd", True),  # mostly UTF-8: keep it
    ],
)
def test_decode_bytes(data: bytes, charset: str, expected: str, fell_back: bool) -> None:
    assert decode_bytes(data, charset) == (expected, fell_back)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\cv.docx", "cv.docx"),
        ("..", "fallback.bin"),
        (".htaccess", "htaccess"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("tab\tand\nnewline.txt", "tabandnewline.txt"),
        ("=?utf-8?q?R=C3=A9sum=C3=A9.pdf?=", "Résumé.pdf"),
        ("   ", "fallback.bin"),
        (None, "fallback.bin"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, default="fallback.bin") == expected


def test_date_without_zone_is_utc_and_offsets_are_kept() -> None:
    naive = parse_message(simple(headers="Date: Mon, 1 Jan 2024 10:00:00 -0000\n"))
    assert naive.date == datetime(2024, 1, 1, 10, tzinfo=UTC)
    offset = parse_message(simple(headers="Date: Mon, 1 Jan 2024 10:00:00 +0100\n"))
    assert offset.date is not None
    assert offset.date.utcoffset() == timedelta(hours=1)
    assert offset.date == datetime(2024, 1, 1, 10, tzinfo=CET)


def test_references_keep_the_newest_hundred() -> None:
    refs = " ".join(f"<r{i}@example.com>" for i in range(150))
    parsed = parse_message(simple(headers=f"References: {refs}\n"))
    assert parsed.references[0] == "r50@example.com"
    assert parsed.references[-1] == "r149@example.com"


def test_sender_is_used_when_from_is_missing() -> None:
    parsed = parse_message(b"Sender: Bot <bot@example.com>\nSubject: x\n\nbody\n")
    assert (parsed.from_name, parsed.from_address) == ("Bot", "bot@example.com")


def test_text_attachment_with_filename_is_not_body() -> None:
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="s"\n\n'
        b"--s\nContent-Type: text/plain\n\nbody\n"
        b'--s\nContent-Type: text/plain; name="log.txt"\n\nlog line\n--s--\n'
    )
    parsed = parse_message(raw)
    assert parsed.text == "body"
    assert attachment_summary(parsed) == [("log.txt", "text/plain", None, False)]


def test_inline_text_parts_are_joined() -> None:
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="s"\n\n'
        b"--s\nContent-Type: text/plain\n\nfirst\n--s\nContent-Type: text/plain\n\nfooter\n--s--\n"
    )
    assert parse_message(raw).text == "first\n\nfooter"


def test_opaque_signed_smime_is_flagged_signed_not_encrypted() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: application/pkcs7-mime; smime-type=signed-data\n"
        b"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n"
    )
    parsed = parse_message(raw)
    assert parsed.is_signed
    assert not parsed.is_encrypted
    assert parsed.text.startswith("This message is signed in S/MIME's opaque format")
    assert attachment_summary(parsed) == [("smime.p7m", "application/pkcs7-mime", None, False)]


def test_multipart_without_any_delimiter_becomes_text() -> None:
    raw = b"From: a@example.com\nContent-Type: multipart/mixed\n\njust words\n"
    parsed = parse_message(raw)
    assert parsed.text == "just words"
    assert "multipart_without_parts" in parsed.defects


def test_nul_and_surrogates_never_reach_the_output() -> None:
    raw = b"From: a@example.com\nSubject: a\x00b\nContent-Type: text/plain; charset=utf-7\n\n+2AA-x\x00y\n"
    parsed = parse_message(raw)
    assert parsed.subject == "ab"
    assert "\x00" not in parsed.text
    assert all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in parsed.text)


def test_the_parse_policy_is_policy_default_with_remembered_headers() -> None:
    """Same settings and header classes as policy.default; one object per (name, value)."""
    from email.headerregistry import ContentTypeHeader

    assert {name: getattr(parsing.PARSE_POLICY, name) for name in ("linesep", "utf8", "raise_on_defect")} == {
        name: getattr(policy.default, name) for name in ("linesep", "utf8", "raise_on_defect")
    }
    factory = parsing.PARSE_POLICY.header_factory
    first = factory("Content-Type", 'text/plain; charset="utf-8"')
    assert factory("Content-Type", 'text/plain; charset="utf-8"') is first
    assert isinstance(first, ContentTypeHeader)
    assert (first.content_type, first.params["charset"]) == ("text/plain", "utf-8")
    assert factory("Subject", "=?utf-8?q?caf=C3=A9?=") == "café"
