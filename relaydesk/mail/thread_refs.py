"""Which ticket an inbound email belongs to: signed Message-IDs, signed reply addresses, subject tokens.

Every message Relaydesk sends carries a Message-ID of the form

    <rd.{ticket_id}.{message_id}.{token}@{domain}>

where ``token`` is an HMAC-SHA256 of the two numbers under the installation's secret, cut to
80 bits and written in lower-case base32 (a-z, 2-7: safe in URLs, local parts and Message-IDs,
and unharmed by mail systems that change case). A reply quotes it in In-Reply-To/References, so
the ticket is found without a database look-up and nobody can steer a message into another
ticket by editing the number. Reply addresses (``support+t1234.{token}@example.com``) carry a
token for the ticket alone. Subject tokens (``[#1234]``) are not signed: they are a last resort
that the caller must only honour when the sender belongs to that ticket.

Pure functions over strings; the parsing and verifying ones never raise on any text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from relaydesk.core.parsing import MAX_ID
from relaydesk.mail.parsing import ParsedMail, normalize_message_id

TOKEN_LENGTH = 16  # base32 characters: 80 bits of the HMAC

_OWN_ID = re.compile(r"^rd\.([0-9]{1,19})\.([0-9]{1,19})\.([a-z2-7]{16})@(.+)$", re.IGNORECASE | re.ASCII)
_REPLY_ADDRESS = re.compile(r"^(.+)\+t([0-9]{1,19})\.([a-z2-7]{16})@([^@]+)$", re.IGNORECASE | re.ASCII)
_SUBJECT_TOKEN = re.compile(r"\[#([0-9]{1,19})\]")


@dataclass(frozen=True)
class OwnMessageId:
    ticket_id: int
    message_id: int


@dataclass(frozen=True)
class ThreadHints:
    """What an inbound message says about its ticket, most trustworthy first.

    ``own_ticket_ids``: from our own Message-IDs in In-Reply-To/References, HMAC verified
    (In-Reply-To first, then References newest first). ``reply_address_ticket_ids``: from verified
    ``+t{id}.{token}`` recipient addresses. ``referenced_message_ids``: every other referenced id,
    in the same order, for the caller to look up among stored messages (this includes ids that
    look like ours but fail verification, so threading survives a change of secret: a forged id
    simply matches no stored message). ``subject_ticket_id``: the unsigned ``[#1234]`` token.
    ``bounced_ticket_id``: for a delivery-status report, the verified ticket of the message that
    could not be delivered (the report itself is not a reply, so it is not in the lists above).
    """

    own_ticket_ids: list[int] = field(default_factory=list)
    reply_address_ticket_ids: list[int] = field(default_factory=list)
    referenced_message_ids: list[str] = field(default_factory=list)
    subject_ticket_id: int | None = None
    bounced_ticket_id: int | None = None

    @property
    def verified_ticket_id(self) -> int | None:
        """The ticket proven by a signed id or address, without any database look-up."""
        for ticket_id in (*self.own_ticket_ids, *self.reply_address_ticket_ids):
            return ticket_id
        return None


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise ValueError("the reply-token secret must be non-empty bytes")


def _check_id(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValueError(f"{what} must be a positive 64-bit integer, not {value!r}")


def _mac(secret: bytes, purpose: bytes, *numbers: int) -> str:
    message = purpose + b":" + b".".join(str(number).encode("ascii") for number in numbers)
    digest = hmac.new(bytes(secret), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def _parse_number(text: str) -> int | None:
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def make_reply_token(ticket_id: int, secret: bytes) -> str:
    """The token that proves a reply address was issued for ``ticket_id``."""
    _check_secret(secret)
    _check_id(ticket_id, "ticket_id")
    return _mac(secret, b"reply", ticket_id)


def verify_reply_token(ticket_id: int, token: str, secret: bytes) -> bool:
    _check_secret(secret)
    if not isinstance(token, str) or not isinstance(ticket_id, int) or not 0 < ticket_id <= MAX_ID:
        return False
    return hmac.compare_digest(
        token.lower().encode("ascii", "replace"), make_reply_token(ticket_id, secret).encode()
    )


def _check_domain(domain: str) -> str:
    cleaned = domain.strip().lower() if isinstance(domain, str) else ""
    if not cleaned or re.search(r"[\s<>@\"(),;:\\\[\]]", cleaned) or not cleaned.isascii():
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    return cleaned


def make_message_id(ticket_id: int, message_id_int: int, domain: str, secret: bytes) -> str:
    """``<rd.{ticket}.{message}.{token}@{domain}>`` for an outgoing message of a ticket."""
    _check_secret(secret)
    _check_id(ticket_id, "ticket_id")
    _check_id(message_id_int, "message_id_int")
    token = _mac(secret, b"message-id", ticket_id, message_id_int)
    return f"<rd.{ticket_id}.{message_id_int}.{token}@{_check_domain(domain)}>"


def parse_own_message_id(mid: str, domain: str, secret: bytes) -> OwnMessageId | None:
    """The ticket and message numbers of one of our own Message-IDs, if its HMAC verifies."""
    _check_secret(secret)
    if not isinstance(mid, str) or not isinstance(domain, str):
        return None
    normalized = normalize_message_id(mid)
    match = _OWN_ID.match(normalized or "")
    if match is None or match.group(4) != domain.strip().lower():
        return None
    ticket_id, message_id = _parse_number(match.group(1)), _parse_number(match.group(2))
    if ticket_id is None or message_id is None:
        return None
    expected = _mac(secret, b"message-id", ticket_id, message_id)
    if not hmac.compare_digest(match.group(3).lower().encode("ascii"), expected.encode("ascii")):
        return None
    return OwnMessageId(ticket_id=ticket_id, message_id=message_id)


def ticket_from_message_id(mid: str, domain: str, secret: bytes) -> int | None:
    """The ticket of one of our own Message-IDs; None for anyone else's id or a forged/edited one."""
    own = parse_own_message_id(mid, domain, secret)
    return own.ticket_id if own else None


def looks_like_own_message_id(mid: str | None, domain: str) -> bool:
    """Shape check only (no secret): an ``rd.…`` id under our domain, e.g. our mail coming back."""
    normalized = normalize_message_id(mid) if isinstance(mid, str) else None
    match = _OWN_ID.match(normalized or "")
    return bool(match and isinstance(domain, str) and match.group(4) == domain.strip().lower())


def ticket_from_subject(subject: str) -> int | None:
    """The number in the first ``[#1234]`` of a subject. Unsigned: see the module docstring."""
    if not isinstance(subject, str):
        return None
    match = _SUBJECT_TOKEN.search(subject)
    return _parse_number(match.group(1)) if match else None


def make_reply_address(mailbox: str, ticket_id: int, secret: bytes) -> str:
    """``support@example.com`` → ``support+t1234.{token}@example.com``."""
    local, at, domain = mailbox.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not a mailbox address: {mailbox!r}")
    return f"{local}+t{ticket_id}.{make_reply_token(ticket_id, secret)}@{domain}"


def own_address_matched(address: str, own_addresses: Iterable[str]) -> str | None:
    """Which of our mailbox addresses (lower-case) ``address`` is — also in its
    ``local+anything@domain`` form, as reply addresses are — or None when it is not ours."""
    lowered = address.lower()
    local, _, domain = lowered.rpartition("@")
    base = f"{local.split('+', 1)[0]}@{domain}"
    for own in own_addresses:
        if own in (lowered, base):
            return own
    return None


def ticket_from_reply_address(address: str, secret: bytes) -> int | None:
    """The ticket of a ``+t{id}.{token}`` reply address whose token verifies, else None."""
    _check_secret(secret)
    if not isinstance(address, str):
        return None
    match = _REPLY_ADDRESS.match(address.strip().strip("<>"))
    if match is None:
        return None
    ticket_id = _parse_number(match.group(2))
    if ticket_id is None or not verify_reply_token(ticket_id, match.group(3), secret):
        return None
    return ticket_id


def candidate_ticket_ids(parsed: ParsedMail, *, domain: str, secret: bytes) -> ThreadHints:
    """Threading hints of an inbound message, most trustworthy first (see ThreadHints).

    Only the outer message's headers count: a forwarded message/rfc822 part never threads.
    """
    _check_secret(secret)
    referenced: list[str] = []
    for mid in [*parsed.in_reply_to, *reversed(parsed.references)]:
        if mid not in referenced:
            referenced.append(mid)
    own: list[int] = []
    others: list[str] = []
    for mid in referenced:
        ticket_id = ticket_from_message_id(mid, domain, secret)
        if ticket_id is None:
            others.append(mid)
        elif ticket_id not in own:
            own.append(ticket_id)
    original = parsed.bounce.original_message_id if parsed.bounce else None
    by_address: list[int] = []
    recipients = [address for _, address in (*parsed.to, *parsed.cc)] + list(parsed.delivered_to)
    for address in recipients:
        ticket_id = ticket_from_reply_address(address, secret)
        if ticket_id is not None and ticket_id not in by_address:
            by_address.append(ticket_id)
    return ThreadHints(
        own_ticket_ids=own,
        reply_address_ticket_ids=by_address,
        referenced_message_ids=others,
        subject_ticket_id=ticket_from_subject(parsed.subject),
        bounced_ticket_id=ticket_from_message_id(original, domain, secret) if original else None,
    )
