"""is_automatic: the corpus, then one header at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaydesk.mail.loops import is_automatic
from relaydesk.mail.parsing import parse_message

CORPUS = Path(__file__).parent / "corpus"
DOMAIN = "support.example.com"

HUMAN = [
    "plain-utf8.eml",
    "outlook-reply.eml",
    "gmail-reply-de.eml",
    "apple-mail-reply-fr.eml",
    "forwarded-rfc822.eml",
    "reply-with-our-token.eml",
    "forged-token.eml",
    "calendar-invite.eml",
    "smime-signed.eml",
    "8bit-headers.eml",
]
AUTOMATIC = {
    "auto-reply-ooo.eml": "Auto-Submitted: auto-replied",
    "bounce-dsn.eml": "delivery status report",
    "bounce-headers-only.eml": "delivery status report",
    "read-receipt-mdn.eml": "read receipt",
    "mailer-daemon-plain.eml": "mailer-daemon sender",
    "mailing-list.eml": "Precedence: list",
    "html-only-newsletter.eml": "Precedence: bulk",
    "x-loop.eml": "X-Loop",
    "our-own-message.eml": "our own Message-ID",
}


@pytest.mark.parametrize("name", HUMAN)
def test_human_corpus_messages(name: str) -> None:
    parsed = parse_message((CORPUS / name).read_bytes())
    assert is_automatic(parsed, own_message_id_domain=DOMAIN) is None


@pytest.mark.parametrize(("name", "reason"), sorted(AUTOMATIC.items()))
def test_automatic_corpus_messages(name: str, reason: str) -> None:
    parsed = parse_message((CORPUS / name).read_bytes())
    assert is_automatic(parsed, own_message_id_domain=DOMAIN) == reason


def reason_for(headers: str, *, sender: str = "Ann <ann@customer.example>") -> str | None:
    raw = f"From: {sender}\nTo: support@example.com\nSubject: hello\n{headers}\nbody\n".encode()
    return is_automatic(parse_message(raw), own_message_id_domain=DOMAIN)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("", None),
        ("Auto-Submitted: no\n", None),
        ("Auto-Submitted: No ; comment\n", None),
        ("Auto-Submitted: auto-generated\n", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: Auto-Replied; owner-email=x@y\n", "Auto-Submitted: auto-replied"),
        ("Precedence: bulk\n", "Precedence: bulk"),
        ("Precedence: junk\n", "Precedence: junk"),
        ("Precedence: list\n", "Precedence: list"),
        ("Precedence: first-class\n", None),
        ("X-Loop: someone@elsewhere.example\n", "X-Loop"),
        ("X-Auto-Response-Suppress: All\n", "X-Auto-Response-Suppress"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply\n", "X-Auto-Response-Suppress"),
        ("X-Auto-Response-Suppress: DR\n", None),
        ("X-Autoreply: yes\n", "X-Autoreply"),
        ("X-Autorespond: vacation\n", "X-Autoreply"),
        ("X-Autoreply: no\n", None),
        ("List-Id: <team.lists.example>\n", "List-Id"),
        ("Return-Path: <>\n", "empty Return-Path"),
        ("Return-Path: < >\n", "empty Return-Path"),
        ("Return-Path: <ann@customer.example>\n", None),
        ("Message-ID: <rd.1.2.abcdefghijklmnop@support.example.com>\n", "our own Message-ID"),
        ("Message-ID: <rd.1.2.abcdefghijklmnop@other.example>\n", None),
        ("Message-ID: <xyz@support.example.com>\n", None),
    ],
)
def test_single_headers(headers: str, reason: str | None) -> None:
    assert reason_for(headers) == reason


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("MAILER-DAEMON@mx.example", "mailer-daemon sender"),
        ("postmaster@mx.example", "mailer-daemon sender"),
        ("Mailer-Daemon-2@mx.example", "mailer-daemon sender"),
        ("noreply@shop.example", "no-reply sender"),
        ("No-Reply <no-reply@shop.example>", "no-reply sender"),
        ("postmasters-fan@club.example", None),
    ],
)
def test_machine_senders(sender: str, reason: str | None) -> None:
    assert reason_for("", sender=sender) == reason


def test_mail_from_our_own_address() -> None:
    raw = b"From: Support <Support@Example.com>\nSubject: x\n\nbody\n"
    parsed = parse_message(raw)
    assert is_automatic(parsed, own_message_id_domain=DOMAIN) is None
    reason = is_automatic(parsed, own_message_id_domain=DOMAIN, own_addresses=["support@example.com"])
    assert reason == "sent from our own address"


def test_abuse_feedback_report() -> None:
    raw = (
        b"From: abuse@isp.example\nContent-Type: multipart/report; report-type=feedback-report;"
        b' boundary="f"\n\n--f\nContent-Type: text/plain\n\nA complaint.\n'
        b"--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--f--\n"
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].filename == "feedback-report.txt"
    assert is_automatic(parsed, own_message_id_domain=DOMAIN) == "feedback report"


def test_strongest_reason_is_named_first() -> None:
    headers = "Auto-Submitted: auto-replied\nPrecedence: bulk\nList-Id: <l.example>\nX-Loop: x\n"
    assert reason_for(headers) == "Auto-Submitted: auto-replied"
