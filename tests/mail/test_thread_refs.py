"""Signed Message-IDs, reply addresses and subject tokens, and the order of threading hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaydesk.mail.parsing import parse_message
from relaydesk.mail.thread_refs import (
    OwnMessageId,
    ThreadHints,
    candidate_ticket_ids,
    looks_like_own_message_id,
    make_message_id,
    make_reply_address,
    make_reply_token,
    parse_own_message_id,
    ticket_from_message_id,
    ticket_from_reply_address,
    ticket_from_subject,
    verify_reply_token,
)

CORPUS = Path(__file__).parent / "corpus"
SECRET = b"relaydesk-corpus-secret"
DOMAIN = "support.example.com"


def test_message_id_format_and_round_trip() -> None:
    mid = make_message_id(1234, 98765, DOMAIN, SECRET)
    assert mid == "<rd.1234.98765.4h32sig7ojlq4sfs@support.example.com>"
    assert ticket_from_message_id(mid, DOMAIN, SECRET) == 1234
    assert parse_own_message_id(mid, DOMAIN, SECRET) == OwnMessageId(ticket_id=1234, message_id=98765)


@pytest.mark.parametrize(
    "mid",
    [
        "rd.1234.98765.4h32sig7ojlq4sfs@support.example.com",  # without brackets
        "<RD.1234.98765.4H32SIG7OJLQ4SFS@SUPPORT.EXAMPLE.COM>",  # a mailer that upper-cased it
        " < rd.1234.98765.4h32sig7ojlq4sfs@support.example.com > ",
    ],
)
def test_message_id_spellings_that_still_verify(mid: str) -> None:
    assert ticket_from_message_id(mid, DOMAIN, SECRET) == 1234


@pytest.mark.parametrize(
    "mid",
    [
        "<rd.1235.98765.4h32sig7ojlq4sfs@support.example.com>",  # ticket number edited
        "<rd.1234.98766.4h32sig7ojlq4sfs@support.example.com>",  # message number edited
        "<rd.1234.98765.4h32sig7ojlq4sfa@support.example.com>",  # token edited
        "<rd.1234.98765.4h32sig7ojlq4sf@support.example.com>",  # token cut short
        "<rd.1234.98765.4h32sig7ojlq4sfs@evil.example>",  # another domain
        "<rd.1234.98765.4h32sig7ojlq4sfs@support.example.com.evil.example>",
        "<rd.0.98765.4h32sig7ojlq4sfs@support.example.com>",
        "<rd.99999999999999999999.1.4h32sig7ojlq4sfs@support.example.com>",
        "<CAF1234.5678@mail.acme.example>",
        "",
        "<>",
        "garbage",
    ],
)
def test_forged_or_foreign_message_ids_give_none(mid: str) -> None:
    assert ticket_from_message_id(mid, DOMAIN, SECRET) is None


def test_another_secret_does_not_verify() -> None:
    mid = make_message_id(1234, 98765, DOMAIN, SECRET)
    assert ticket_from_message_id(mid, DOMAIN, b"another-secret") is None


def test_message_id_domain_is_lower_cased_and_checked() -> None:
    assert make_message_id(1, 2, "Support.Example.COM", SECRET).endswith("@support.example.com>")
    for bad in ("", "a b", "x@y", "<x>", "exämple.com"):
        with pytest.raises(ValueError, match="domain"):
            make_message_id(1, 2, bad, SECRET)


@pytest.mark.parametrize("number", [0, -1, 2**63, True])
def test_ids_must_be_positive_64_bit(number: int) -> None:
    with pytest.raises(ValueError, match="positive 64-bit"):
        make_message_id(number, 1, DOMAIN, SECRET)
    with pytest.raises(ValueError, match="positive 64-bit"):
        make_reply_token(number, SECRET)


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        make_reply_token(1, b"")
    with pytest.raises(ValueError, match="secret"):
        ticket_from_message_id("<x@y>", DOMAIN, b"")


def test_reply_token_shape_and_verification() -> None:
    token = make_reply_token(42, SECRET)
    assert token == "indjoxpu474ii46g"
    assert len(token) == 16
    assert token.isalnum()
    assert token == token.lower()
    assert verify_reply_token(42, token, SECRET)
    assert verify_reply_token(42, token.upper(), SECRET)
    assert not verify_reply_token(43, token, SECRET)
    assert not verify_reply_token(42, token[:-1] + "a", SECRET)
    assert not verify_reply_token(42, "ünïcode", SECRET)
    assert make_reply_token(1, SECRET) != make_message_id(1, 1, DOMAIN, SECRET).split(".")[3]


def test_reply_address_round_trip() -> None:
    address = make_reply_address("support@example.com", 42, SECRET)
    assert address == "support+t42.indjoxpu474ii46g@example.com"
    assert ticket_from_reply_address(address, SECRET) == 42
    assert ticket_from_reply_address(address.upper(), SECRET) == 42
    assert ticket_from_reply_address(f"<{address}>", SECRET) == 42
    with pytest.raises(ValueError, match="mailbox"):
        make_reply_address("not-an-address", 42, SECRET)


@pytest.mark.parametrize(
    "address",
    [
        "support+t43.indjoxpu474ii46g@example.com",
        "support+t42.indjoxpu474ii46h@example.com",
        "support+t42@example.com",
        "support@example.com",
        "support+t42.indjoxpu474ii46g@",
        "",
    ],
)
def test_forged_reply_addresses_give_none(address: str) -> None:
    assert ticket_from_reply_address(address, SECRET) is None


@pytest.mark.parametrize(
    ("subject", "ticket_id"),
    [
        ("Re: [#1234] Printer", 1234),
        ("[#7]", 7),
        ("Re: [#1234] Printer [#99]", 1234),
        ("Re: #1234 Printer", None),
        ("[# 1234]", None),
        ("[#0]", None),
        ("[#99999999999999999999]", None),
        ("[#١٢٣]", None),  # Arabic-Indic digits are not ticket numbers
        ("", None),
    ],
)
def test_ticket_from_subject(subject: str, ticket_id: int | None) -> None:
    assert ticket_from_subject(subject) == ticket_id


def test_looks_like_own_message_id_needs_no_secret() -> None:
    assert looks_like_own_message_id("<rd.1.2.abcdefghijklmnop@support.example.com>", DOMAIN)
    assert not looks_like_own_message_id("<rd.1.2.abcdefghijklmnop@other.example>", DOMAIN)
    assert not looks_like_own_message_id(None, DOMAIN)


def hints(name: str) -> ThreadHints:
    return candidate_ticket_ids(parse_message((CORPUS / name).read_bytes()), domain=DOMAIN, secret=SECRET)


CORPUS_HINTS = {
    "reply-with-our-token.eml": ThreadHints(
        own_ticket_ids=[1234], referenced_message_ids=["CAF1234.5678@mail.acme.example"]
    ),
    "outlook-reply.eml": ThreadHints(own_ticket_ids=[1234], subject_ticket_id=1234),
    "gmail-reply-de.eml": ThreadHints(own_ticket_ids=[1234], subject_ticket_id=1234),
    "forged-token.eml": ThreadHints(
        referenced_message_ids=["rd.1235.98765.4h32sig7ojlq4sfs@support.example.com"], subject_ticket_id=1235
    ),
    "plus-address-reply.eml": ThreadHints(reply_address_ticket_ids=[42]),
    "subject-token.eml": ThreadHints(subject_ticket_id=1234),
    # The forwarded message quotes our id, but nothing inside a message/rfc822 part threads.
    "forwarded-rfc822.eml": ThreadHints(),
    "bounce-dsn.eml": ThreadHints(bounced_ticket_id=555),
    "bounce-headers-only.eml": ThreadHints(bounced_ticket_id=77),
    "plain-utf8.eml": ThreadHints(),
    "garbage-message-id.eml": ThreadHints(
        referenced_message_ids=["spaced@example.org", "ok-one@example.org"]
    ),
}


@pytest.mark.parametrize(("name", "expected"), sorted(CORPUS_HINTS.items()))
def test_corpus_hints(name: str, expected: ThreadHints) -> None:
    assert hints(name) == expected


def test_verified_ticket_id_prefers_message_ids_then_reply_addresses() -> None:
    assert hints("reply-with-our-token.eml").verified_ticket_id == 1234
    assert hints("plus-address-reply.eml").verified_ticket_id == 42
    assert hints("forged-token.eml").verified_ticket_id is None
    assert hints("subject-token.eml").verified_ticket_id is None


def test_order_is_in_reply_to_then_references_newest_first() -> None:
    ids = {n: make_message_id(n, n, DOMAIN, SECRET) for n in (1, 2, 3)}
    raw = (
        f"From: a@example.com\nIn-Reply-To: {ids[2]}\n"
        f"References: <first@x.example> {ids[1]} <middle@x.example> {ids[3]} {ids[2]}\n\nbody\n"
    ).encode()
    result = candidate_ticket_ids(parse_message(raw), domain=DOMAIN, secret=SECRET)
    assert result.own_ticket_ids == [2, 3, 1]
    assert result.referenced_message_ids == ["middle@x.example", "first@x.example"]


def test_reply_addresses_are_read_from_cc_and_delivered_to() -> None:
    address = make_reply_address("help@example.com", 9, SECRET)
    raw = f"From: a@example.com\nTo: someone@else.example\nDelivered-To: {address}\n\nbody\n".encode()
    assert candidate_ticket_ids(
        parse_message(raw), domain=DOMAIN, secret=SECRET
    ).reply_address_ticket_ids == [9]
    raw = f"From: a@example.com\nCc: {address}\n\nbody\n".encode()
    assert candidate_ticket_ids(
        parse_message(raw), domain=DOMAIN, secret=SECRET
    ).reply_address_ticket_ids == [9]
