"""Outbound mail as bytes: the MIME of an agent reply or an acknowledgement.

Pure functions over plain data (no ORM): ``relaydesk.mail.outbox`` loads the rows and calls
these. Every value that ends up in a header passes through here, so this is where header
injection stops: display names and subjects are collapsed to one line (CR, LF and other control
characters become spaces), addresses containing anything but a plain ``local@domain`` are
refused with ``HeaderValueError``. The stdlib ``email`` package with ``policy.default`` would
raise on a newline in a header as well; we never let it get that far, so building a message
cannot fail on user data in a way nobody planned for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

# Wire format: CRLF line ends, lines folded at 78 characters, 7-bit bodies (base64 or
# quoted-printable where needed), so any SMTP server takes it without SMTPUTF8 or 8BITMIME.
WIRE_POLICY = policy.SMTP

MAX_SUBJECT_LENGTH = 255  # OutboundEmail.subject
MAX_NAME_LENGTH = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw|vs)\s*(?:\[\d+\])?\s*[:：]\s*", re.IGNORECASE)
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


class HeaderValueError(ValueError):
    """A value that cannot be put into a mail header safely (an address with a line break…)."""


def one_line(value: str) -> str:
    """``value`` as one header-safe line: control characters (CR, LF, NUL, tab…) become spaces,
    runs of whitespace one space."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


@dataclass(frozen=True)
class MailAddress:
    """A validated mailbox: an ASCII ``local@domain`` (the domain IDNA-encoded, lower case) and
    a one-line display name."""

    name: str
    address: str

    def formatted(self) -> str:
        """``Name <local@domain>``, or ``<local@domain>`` without a name.

        The angle brackets are always there, so ``<local@domain>`` in a stored list matches this
        recipient and no other (the circuit breaker counts recent mail per recipient that way).
        """
        if not self.name:
            return f"<{self.address}>"
        return str(Address(display_name=self.name, addr_spec=self.address))

    @property
    def header_address(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.address)


def _ascii_domain(domain: str) -> str:
    domain = domain.rstrip(".").lower()
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise HeaderValueError(f"{domain!r} is not a valid mail domain") from exc


def parse_address(address: str, name: str = "") -> MailAddress:
    """Validate a bare address (``local@domain``, optionally in ``<>``) and clean its name.

    Raises ``HeaderValueError`` for anything that is not exactly one plain address: a line
    break, a second address, spaces, a missing part, a quoted or non-ASCII local part (the
    latter would need SMTPUTF8, which we do not ask servers for), a domain that is not a
    host name.
    """
    if not isinstance(address, str):
        raise HeaderValueError("not an address")
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not text or len(text) > 254 or _CONTROL.search(text) or any(c.isspace() for c in text):
        raise HeaderValueError(f"{address!r} is not a single email address")
    local, at, domain = text.rpartition("@")
    if not at or not local.isascii() or not _LOCAL_PART.match(local):
        raise HeaderValueError(f"{address!r} is not a single plain email address")
    domain = _ascii_domain(domain)
    if not _DOMAIN.match(domain):
        raise HeaderValueError(f"{address!r} does not have a valid mail domain")
    clean_name = one_line(name)[:MAX_NAME_LENGTH]
    try:
        parsed = Address(display_name=clean_name, addr_spec=f"{local}@{domain}")
    except (ValueError, IndexError, HeaderParseError) as exc:  # the parser's defects are ValueErrors
        raise HeaderValueError(f"{address!r} is not a valid email address") from exc
    return MailAddress(name=clean_name, address=parsed.addr_spec)


def parse_formatted(entry: str) -> MailAddress:
    """Read back an entry written by ``MailAddress.formatted`` (``Name <a@b>`` or ``<a@b>``)."""
    if not isinstance(entry, str) or _CONTROL.search(entry):
        raise HeaderValueError(f"{entry!r} is not a stored address")
    try:
        addresses = policy.default.header_factory("To", entry).addresses
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise HeaderValueError(f"{entry!r} is not a stored address") from exc
    if len(addresses) != 1:
        raise HeaderValueError(f"{entry!r} is not one address")
    return parse_address(addresses[0].addr_spec, addresses[0].display_name)


def reply_subject(subject: str, number: int, *, prefix: str = "Re: ") -> str:
    """``Re: <subject> [#<number>]``: earlier ``Re:``/``AW:``… prefixes dropped, the ticket
    token added unless the subject carries it already, cut to fit the column."""
    base = one_line(subject)
    while True:
        stripped = _REPLY_PREFIX.sub("", base, count=1)
        if stripped == base:
            break
        base = stripped
    token = f"[#{number}]"
    suffix = "" if token in base else f" {token}"
    room = MAX_SUBJECT_LENGTH - len(prefix) - len(suffix)
    if len(base) > room:
        base = base[: max(0, room - 1)].rstrip() + "…"
    return f"{prefix}{base}{suffix}".strip()


def with_ticket_token(subject: str, number: int) -> str:
    """``subject`` (one line) with ``[#number]`` appended when missing, cut to fit the column."""
    base = one_line(subject)
    token = f"[#{number}]"
    if token in base:
        return base[:MAX_SUBJECT_LENGTH]
    room = MAX_SUBJECT_LENGTH - len(token) - 1
    if len(base) > room:
        base = base[: max(0, room - 1)].rstrip() + "…"
    return f"{base} {token}".strip()


def fill_placeholders(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders by plain substitution (no template engine, no
    ``str.format``: a template cannot reach attributes). Values are collapsed to one line."""
    result = template
    for key, value in values.items():
        result = result.replace("{" + key + "}", one_line(value))
    return result


def cap_references(ids: Sequence[str], limit: int) -> list[str]:
    """Keep the first id (the thread's root) and the newest ``limit - 1`` (RFC 5322 §3.6.4)."""
    unique = list(dict.fromkeys(i for i in ids if i))
    if len(unique) <= limit:
        return unique
    if limit <= 1:
        return unique[-limit:] if limit else []
    return [unique[0], *unique[-(limit - 1) :]]


# --- the quoted history --------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """The message being answered, quoted under the reply. ``html`` is already sanitised."""

    attribution: str  # "On March 4, 2025, 9:12 a.m., Carol Customer wrote:"
    text: str
    html: str


def quote_text(text: str) -> str:
    """Each line prefixed with ``> `` (an empty line with ``>``), as mail clients quote."""
    lines = text.strip("\n").splitlines() or [""]
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def reply_text(body: str, quote: Quote | None) -> str:
    if quote is None:
        return body.rstrip() + "\n"
    return f"{body.rstrip()}\n\n{one_line(quote.attribution)}\n{quote_text(quote.text)}\n"


_QUOTE_STYLE = "margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex"


def reply_html(body_html: str, quote: Quote | None) -> str:
    """A small HTML document: the reply, then the quote in a ``<blockquote type="cite">``.

    ``body_html`` and ``quote.html`` are sanitised already (they are stored that way); the
    attribution is text and is escaped here.
    """
    parts = [body_html]
    if quote is not None:
        parts.append(
            f'<div class="rd-quote"><p>{html.escape(one_line(quote.attribution))}</p>'
            f'<blockquote type="cite" style="{_QUOTE_STYLE}">{quote.html}</blockquote></div>'
        )
    body = "\n".join(parts)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


# --- the message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class MailContent:
    """Everything one outbound message is made of. Message ids are bare (``local@domain``)."""

    sender: MailAddress
    to: Sequence[MailAddress]
    cc: Sequence[MailAddress]
    subject: str
    message_id: str
    in_reply_to: str
    references: Sequence[str]
    date: datetime
    text: str
    html: str
    attachments: Sequence[OutboundAttachment] = ()
    headers: Sequence[tuple[str, str]] = ()  # extra headers: X-Loop, Auto-Submitted…
    language: str = ""


def _bracket(message_id: str) -> str:
    bare = message_id.strip().strip("<>")
    if not bare or _CONTROL.search(bare) or any(c.isspace() or c in "<>" for c in bare) or "@" not in bare:
        raise HeaderValueError(f"{message_id!r} is not a message id")
    return f"<{bare}>"


_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable ASCII except ":"


def build_message(content: MailContent) -> EmailMessage:
    """The ``EmailMessage`` for ``content``: multipart/alternative (text + HTML), wrapped in
    multipart/mixed when there are attachments. Raises ``HeaderValueError`` on an unusable
    address or message id (callers treat that as a permanent failure)."""
    if not content.to:
        raise HeaderValueError("a message needs at least one recipient")
    message = EmailMessage(policy=policy.default)
    message["From"] = content.sender.header_address
    message["To"] = [recipient.header_address for recipient in content.to]
    if content.cc:
        message["Cc"] = [recipient.header_address for recipient in content.cc]
    message["Subject"] = one_line(content.subject)
    message["Date"] = format_datetime(content.date)
    message["Message-ID"] = _bracket(content.message_id)
    if content.in_reply_to:
        message["In-Reply-To"] = _bracket(content.in_reply_to)
    if content.references:
        message["References"] = " ".join(_bracket(mid) for mid in content.references)
    for name, value in content.headers:
        if not _HEADER_NAME.match(name):
            raise HeaderValueError(f"{name!r} is not a header name")
        message[name] = one_line(value)
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    for attachment in content.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        if (
            not maintype
            or not subtype
            or maintype.strip().lower() in ("multipart", "message")
            or _CONTROL.search(attachment.content_type)
        ):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.content,
            maintype=maintype.strip().lower(),
            subtype=subtype.strip().lower(),
            filename=one_line(attachment.filename) or "attachment",
        )
    if content.language and _LANGUAGE.match(content.language):
        # After the body: set_content() drops every Content-* header of the message.
        message["Content-Language"] = content.language
    return message


def render(content: MailContent) -> bytes:
    """The message as it goes on the wire (CRLF, 7-bit)."""
    return build_message(content).as_bytes(policy=WIRE_POLICY)
