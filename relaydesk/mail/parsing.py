"""Parsing inbound email: untrusted bytes in, a plain ``ParsedMail`` out.

Pure: no ORM, no network. ``parse_message`` first runs ``check_limits`` (a cheap scan that
refuses oversized or absurdly nested input before the stdlib parser sees it), then parses with
``email.policy.default``, falling back to ``policy.compat32`` when the modern policy raises.
Headers are read from their raw values and decoded here (8-bit bytes, RFC 2047 words), because
that is where real-world mail breaks the stdlib's header classes. Every failure is either
handled (recorded in ``ParsedMail.defects``) or raised as ``MailParseError``; nothing else
escapes, so a worker can quarantine the raw bytes with a reason instead of crashing.

See docs/email-parsing.md for what each field means and the limits.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from io import BytesIO

from relaydesk.core.sanitize import html_to_text, sanitize_html
from relaydesk.mail.quotes import split_reply, split_reply_html


class MailParseError(Exception):
    """An inbound message that cannot be parsed; ``reason`` is a short machine code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[MailParseError], tuple[str, str]]:
        # Exceptions pickle their args; ours has two, so jobs can carry it across processes.
        return (type(self), (self.reason, self.message))


class _RememberingHeaderRegistry(HeaderRegistry):
    """``policy.default``'s header registry, handing out the same object for the same header.

    While it walks a message, the stdlib parser (and ``Message``) ask each part for its
    Content-Type and a few other headers again and again, and ``policy.default`` parses the
    value into a new header object every time: 25 header parses per message, about a sixth of
    the CPU of ingesting one. Header objects are immutable and a function of (name, value), so
    the recent ones are kept; the cache is emptied when it grows past ``size``.
    """

    def __init__(self, size: int = 2048) -> None:
        super().__init__()
        self._size = size
        self._made: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name, value)
        header = self._made.get(key)
        if header is None:
            if len(self._made) >= self._size:
                self._made.clear()
            header = self._made[key] = super().__call__(name, value)
        return header


# policy.default in every respect but the remembering header registry.
PARSE_POLICY = policy.default.clone(header_factory=_RememberingHeaderRegistry())


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 25 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_headers: int = 500
    # RFC 5322 asks for 998; real mailers send longer unfolded References/DKIM lines.
    max_header_line: int = 32 * 1024
    # nh3's time grows with the square of HTML nesting; deeper HTML is kept as an attachment only.
    max_html_depth: int = 1000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    is_inline: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class BounceInfo:
    """What a delivery-status report says about the message that could not be delivered."""

    original_message_id: str | None
    failed_recipients: list[str]
    status: str | None  # first failed recipient's status code, e.g. "5.1.1"


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_address: str | None
    from_name: str
    reply_to: list[str]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    delivered_to: list[str]  # Delivered-To / X-Original-To / Envelope-To: where a Bcc'd copy went
    date: datetime | None
    text: str
    html: str | None  # sanitised; None when the message has no HTML part
    new_text: str  # ``text`` without quoted history and signature (quotes.split_reply)
    quoted_text: str
    new_html: str | None  # sanitised halves of ``html`` (quotes.split_reply_html on the raw HTML)
    quoted_html: str | None
    attachments: list[Attachment]
    auto_submitted: str | None
    precedence: str | None
    x_loop: str | None
    x_autoreply: str | None  # X-Autoreply or X-Autorespond
    list_id: str | None
    return_path: str | None  # "" for an empty Return-Path (<>), None when the header is missing
    x_auto_response_suppress: str | None
    content_type: str
    report_type: str | None  # multipart/report's report-type, lower case
    is_bounce: bool
    bounce: BounceInfo | None
    is_encrypted: bool
    is_signed: bool
    has_remote_images: bool
    raw_size: int
    defects: list[str] = field(default_factory=list)


# --- the cheap scan -------------------------------------------------------------------------------

_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_DELIMITER_LINE = re.compile(rb"^--([^\r\n]{1,202})", re.MULTILINE)


def _header_block(raw: bytes) -> bytes:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends)] if ends else raw


def check_limits(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse input that is too big or too complex, before any real parsing.

    Parts and nesting are estimated from boundary delimiter lines; the walk over the parsed
    message enforces the exact numbers (and the depth of message/rfc822 chains) again.
    """
    if len(raw) > limits.max_bytes:
        raise MailParseError(
            "too_large", f"The message is {len(raw)} bytes; the limit is {limits.max_bytes} bytes."
        )
    lines = _header_block(raw).splitlines()
    headers = sum(1 for line in lines if line[:1] not in (b" ", b"\t", b""))
    if headers > limits.max_headers:
        raise MailParseError(
            "too_many_headers", f"The message has {headers} header fields; the limit is {limits.max_headers}."
        )
    longest = max((len(line) for line in lines), default=0)
    if longest > limits.max_header_line:
        raise MailParseError(
            "header_too_long",
            f"A header line is {longest} bytes long; the limit is {limits.max_header_line}.",
        )
    boundaries = {a or b for a, b in _BOUNDARY_PARAM.findall(raw)}
    if not boundaries:
        return
    stack: list[bytes] = []
    parts = depth = 0
    for match in _DELIMITER_LINE.finditer(raw):
        token = match.group(1).rstrip()
        closing = token.endswith(b"--") and token[:-2] in boundaries and token not in boundaries
        boundary = token[:-2] if closing else token
        if boundary not in boundaries:
            continue
        if boundary in stack:
            del stack[stack.index(boundary) + (1 if not closing else 0) :]
        elif not closing:
            stack.append(boundary)
        if not closing:
            parts += 1
            depth = max(depth, len(stack))
        if parts > limits.max_parts:
            raise MailParseError(
                "too_many_parts", f"The message has more than {limits.max_parts} MIME parts."
            )
        if depth > limits.max_depth:
            raise MailParseError(
                "too_deep", f"The message nests MIME parts more than {limits.max_depth} levels deep."
            )


# --- text decoding --------------------------------------------------------------------------------

# Labels mail clients use that Python does not know, or knows as something narrower.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-8-e": "iso-8859-8",
    "iso-8859-6-e": "iso-8859-6",
    "iso-8859-1": "cp1252",  # what "latin-1" mail really is (as browsers decode it)
    "us-ascii": "ascii",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "windows-874": "cp874",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "utf8": "utf-8",
}
_UNKNOWN_CHARSETS = {"", "unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "charset"}
# Codecs that are not character sets of mail, or that turn escapes into arbitrary code points.
_REFUSED_CODECS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs"}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    if label in _UNKNOWN_CHARSETS:
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return None if name.replace("_", "-") in _REFUSED_CODECS else name


def _decode_unknown(data: bytes) -> str:
    """Bytes whose charset is unknown or lied about: UTF-8 if that is plausible, else cp1252/latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    loose = data.decode("utf-8", "replace")
    invalid = loose.count("\ufffd")
    valid_non_ascii = len(loose) - len(loose.encode("ascii", "ignore")) - invalid
    if valid_non_ascii >= invalid:  # mostly real UTF-8 with a few broken bytes
        return loose
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode ``data`` in its declared charset; the flag says a fallback had to be used."""
    codec = _codec(charset)
    if codec:
        try:
            return _clean(data.decode(codec)), False
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
    return _clean(_decode_unknown(data)), bool(data) and not data.isascii()


_SURROGATES = re.compile("[\ud800-\udfff]")


def _clean(value: str) -> str:
    # Lone surrogates cannot be stored or passed to nh3; NUL cannot be stored in PostgreSQL.
    return _SURROGATES.sub("\ufffd", value).replace("\x00", "")


def _fix_8bit(value: str) -> str:
    """Header text that arrived as raw 8-bit bytes (held as surrogate escapes) → real text."""
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, None)[0]


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")


def _decode_word_payload(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            if not re.fullmatch(r"[A-Za-z0-9+/]*=*", payload):
                return None  # not base64: leave the word as it was written
            cleaned = payload.rstrip("=")
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        return quopri.decodestring(payload.encode("utf-8", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def decode_rfc2047(value: str) -> str:
    """Decode RFC 2047 encoded words leniently (unknown charsets, missing spaces, split characters).

    Adjacent words in the same charset are joined before decoding, because some mailers split one
    multi-byte character across two words.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset)[0])
        pending, pending_charset = [], None

    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 allows "utf-8*en"
        decoded = _decode_word_payload(match.group(2), match.group(3))
        if decoded is None:
            flush()
            out.append(between + match.group(0))
            previous_was_word = False
            continue
        if not previous_was_word or between.strip():
            flush()
            out.append(between)
        elif charset.lower() != (pending_charset or "").lower():
            flush()  # whitespace between two encoded words is dropped, as RFC 2047 says
        pending.append(decoded)
        pending_charset = charset
        previous_was_word = True
    flush()
    out.append(value[position:])
    return "".join(out)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _one_line(value: str) -> str:
    """A header value as one line: no CR/LF or other control characters, single spaces."""
    return " ".join(_CONTROL.sub(" ", _clean(value)).split())


# --- headers --------------------------------------------------------------------------------------


def _raw_values(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    values = []
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            text = value if isinstance(value, str) else str(value)
            values.append(_fix_8bit(re.sub(r"\r?\n(?=[ \t])", "", text).replace("\r", "").replace("\n", "")))
    return values


def _first(msg: Message, name: str) -> str | None:
    values = _raw_values(msg, name)
    return values[0] if values else None


def _unstructured(msg: Message, name: str) -> str | None:
    value = _first(msg, name)
    return None if value is None else _one_line(decode_rfc2047(value))


def normalize_message_id(value: str | None) -> str | None:
    """``<Abc@Mail.Example.COM>`` → ``Abc@mail.example.com``; None for anything that is not an id."""
    if not isinstance(value, str):
        return None
    text = "".join(value.split())
    match = re.search(r"<([^<>]*)>", text)
    text = match.group(1) if match else text.strip("<>")
    if (
        not text
        or len(text) > 250
        or not text.isascii()
        or not text.isprintable()
        or "<" in text
        or ">" in text
    ):
        return None
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    return f"{local}@{domain.lower()}"


def _message_ids(msg: Message, name: str, *, keep_last: int = 100) -> list[str]:
    ids: dict[str, None] = {}  # ordered and de-duplicated
    for value in _raw_values(msg, name):
        tokens = re.findall(r"<([^<>]{1,300})>", value) or re.split(r"[\s,]+", value)
        for token in tokens:
            normalized = normalize_message_id(token)
            if normalized:
                ids[normalized] = None
    return list(ids)[-keep_last:]


def normalize_address(value: str) -> str | None:
    """``Ann@Example.COM`` → ``Ann@example.com``; None unless it looks like a mailbox address."""
    text = value.strip().strip("<>").strip() if isinstance(value, str) else ""
    if not text or len(text) > 254 or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in text):
        return None
    local, at, domain = text.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or not domain or "@" in domain:
        return None
    return f"{local}@{domain.lower()}"


_MAX_MODERN_ADDRESS_HEADER = 4096


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for value in _raw_values(msg, name):
        pairs: list[tuple[str, str]] = []
        # The modern parser is quadratic on some malformed input (unbalanced quotes): long
        # values go straight to the simpler parser.
        if len(value) <= _MAX_MODERN_ADDRESS_HEADER:
            try:
                header = PARSE_POLICY.header_factory(name, value)
                pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
            except Exception:  # the modern header parser raises on some malformed lists
                pairs = []
        if not pairs and "@" in value:
            pairs = getaddresses([value])
        for display_name, address in pairs:
            normalized = normalize_address(address)
            if normalized and normalized not in seen:
                seen.add(normalized)
                found.append((_one_line(decode_rfc2047(display_name or "")), normalized))
    return found


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # TypeError/ValueError/IndexError/OverflowError, depending on the garbage
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- parts ----------------------------------------------------------------------------------------

_DEFAULT_FILENAMES = {
    "text/calendar": "invite.ics",
    "application/ics": "invite.ics",
    "application/ms-tnef": "winmail.dat",
    "application/vnd.ms-tnef": "winmail.dat",
    "application/pkcs7-mime": "smime.p7m",
    "application/x-pkcs7-mime": "smime.p7m",
    "application/pkcs7-signature": "smime.p7s",
    "application/x-pkcs7-signature": "smime.p7s",
    "application/pgp-signature": "signature.asc",
    "application/pgp-encrypted": "pgp-version.txt",
    "message/rfc822": "forwarded-message.eml",
    "message/global": "forwarded-message.eml",
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "message/feedback-report": "feedback-report.txt",
    "text/rfc822-headers": "original-headers.txt",
}
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/json": ".json",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
}
_PKCS7_MIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_TEXT_ATTACHMENT_TYPES = {"text/calendar", "text/rfc822-headers", "text/x-vcard", "text/vcard"}


def safe_filename(name: str | None, *, default: str) -> str:
    """A file name without directories, control or direction-override characters, or leading dots."""
    text = _clean(decode_rfc2047(_fix_8bit(name or "")))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip().lstrip(".").strip()
    if not text:
        return default
    if len(text) > 200:
        stem, dot, extension = text.rpartition(".")
        text = f"{stem[: 199 - len(extension)]}.{extension}" if dot and len(extension) <= 20 else text[:200]
    return text


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # a header the modern policy cannot parse
        return "text/plain"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return value if isinstance(value, str) else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        value = _first(part, "content-disposition")
        return value.split(";", 1)[0].strip().lower() if value else None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    disposition = _first(part, "content-disposition") or ""
    if "\\" in disposition:
        # In an RFC quoted-string "\" escapes the next character, so the modern parser turns
        # "C:\Users\a.pdf" into "C:Usersa.pdf"; Windows mailers mean a path. compat32 keeps it.
        legacy = Message()
        legacy["Content-Disposition"] = disposition
        try:
            name = legacy.get_filename() or name
        except Exception:
            name = name or None
    if not name:
        name = _param(part, "name")
    return name or None


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _generate(msg: Message, generator_policy: policy.Policy) -> bytes | None:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=generator_policy).flatten(msg)
    except Exception:  # a header this policy cannot write back
        return None
    return buffer.getvalue()


def _flatten(msg: Message) -> bytes:
    """A message part back to bytes (for a forwarded message kept as an .eml attachment)."""
    # compat32 with no line limit writes headers back as they came, folding included.
    for generator_policy in (policy.compat32.clone(linesep="\r\n", max_line_length=0), policy.default):
        written = _generate(msg, generator_policy)
        if written is not None:
            return written
    return b""


def _guess_boundary(body: bytes) -> bytes | None:
    """A multipart body whose boundary parameter is missing or wrong: find the delimiter it uses."""
    counts: dict[bytes, int] = {}
    for match in re.finditer(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", body, re.MULTILINE):
        token = match.group(1)
        counts[token.removesuffix(b"--")] = counts.get(token.removesuffix(b"--"), 0) + 1
    best = max(counts.items(), key=lambda item: item[1], default=None)
    return best[0] if best and best[1] >= 2 else None


def _html_depth(value: str) -> int:
    depth = deepest = 0
    for match in re.finditer(r"<(/?)[a-zA-Z]", value):
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest


@dataclass
class _Walk:
    """What the walk over the MIME tree has collected so far."""

    limits: Limits
    parts: int = 0
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    is_encrypted: bool = False
    is_signed: bool = False
    bounce: BounceInfo | None = None

    def defect(self, name: str) -> None:
        if name not in self.defects:
            self.defects.append(name)

    def text_of(self, part: Message) -> str:
        text, fell_back = decode_bytes(_payload_bytes(part), _param(part, "charset"))
        if fell_back:
            self.defect("charset_fallback")
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def attach(self, part: Message, content_type: str, content: bytes | None = None) -> None:
        raw_id = _CONTROL.sub("", "".join((_first(part, "content-id") or "").split()))
        content_id = raw_id.strip("<>")[:250] or None
        disposition = _disposition(part)
        extension = _EXTENSIONS.get(content_type, ".bin")
        default = _DEFAULT_FILENAMES.get(content_type, f"attachment{extension}")
        filename = safe_filename(_filename(part), default=default)
        if content_type in ("message/rfc822", "message/global") and not filename.lower().endswith(".eml"):
            filename += ".eml"
        self.attachments.append(
            Attachment(
                filename=filename,
                content_type=content_type,
                content=_payload_bytes(part) if content is None else content,
                content_id=_clean(content_id) if content_id else None,
                is_inline=disposition == "inline" or (disposition is None and content_id is not None),
            )
        )

    def walk(self, part: Message, depth: int) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MailParseError(
                "too_many_parts", f"The message has more than {self.limits.max_parts} MIME parts."
            )
        if depth > self.limits.max_depth:
            raise MailParseError(
                "too_deep", f"The message nests MIME parts more than {self.limits.max_depth} levels deep."
            )
        if len(part.keys()) > self.limits.max_headers:
            raise MailParseError(
                "too_many_headers", f"A MIME part has more than {self.limits.max_headers} header fields."
            )
        for problem in getattr(part, "defects", []):
            self.defect(type(problem).__name__)
        content_type = _content_type(part)
        maintype = content_type.split("/", 1)[0]
        if maintype == "message":
            self.message_part(part, content_type)
        elif part.is_multipart():
            self.multipart(part, content_type, depth)
        elif maintype == "multipart":
            self.broken_multipart(part, content_type, depth)
        elif content_type in _PKCS7_MIME:
            self.smime(part, content_type)
        elif self.is_attachment(part, content_type):
            self.attach(part, content_type)
        elif content_type == "text/html":
            self.htmls.append(self.text_of(part))
        else:
            self.texts.append(self.text_of(part))

    def is_attachment(self, part: Message, content_type: str) -> bool:
        if _disposition(part) == "attachment" or not content_type.startswith("text/"):
            return True
        return content_type in _TEXT_ATTACHMENT_TYPES or _filename(part) is not None

    def message_part(self, part: Message, content_type: str) -> None:
        payload = part.get_payload()
        if content_type in ("message/rfc822", "message/global") and isinstance(payload, list) and payload:
            self.parts += 1  # the embedded message counts, and is never walked for threading headers
            inner = payload[0]
            self.attach(part, content_type, _flatten(inner) if isinstance(inner, Message) else b"")
        elif isinstance(payload, list):
            blocks = b"".join(_flatten(block) for block in payload if isinstance(block, Message))
            self.attach(part, content_type, blocks)
        else:
            self.attach(part, content_type)

    def multipart(self, part: Message, content_type: str, depth: int) -> None:
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            self.alternative(children, depth)
            return
        if content_type == "multipart/signed":
            self.is_signed = True  # the signed content is the first child; signatures stay attached
        elif content_type == "multipart/encrypted":
            self.is_encrypted = True
            self.notices.append(
                "This message is encrypted (OpenPGP) and cannot be shown; the encrypted original is attached."
            )
        for child in children:
            self.walk(child, depth + 1)
        if (
            content_type == "multipart/report"
            and (_param(part, "report-type") or "").lower() == "delivery-status"
        ):
            self.bounce = _bounce_info(part, children)

    def alternative(self, children: list[Message], depth: int) -> None:
        """Keep the last (richest) text and the last HTML version; attachments from every version."""
        chosen_texts: list[str] = []
        chosen_htmls: list[str] = []
        for child in children:
            texts_before, htmls_before = len(self.texts), len(self.htmls)
            self.walk(child, depth + 1)
            if self.texts[texts_before:]:
                chosen_texts = self.texts[texts_before:]
            if self.htmls[htmls_before:]:
                chosen_htmls = self.htmls[htmls_before:]
            del self.texts[texts_before:], self.htmls[htmls_before:]
        self.texts.extend(chosen_texts)
        self.htmls.extend(chosen_htmls)

    def broken_multipart(self, part: Message, content_type: str, depth: int) -> None:
        body = _payload_bytes(part)
        boundary = _guess_boundary(body)
        if boundary is None:
            self.defect("multipart_without_parts")
            self.texts.append(self.text_of(part))
            return
        self.defect("boundary_recovered")
        quoted = boundary.decode("ascii", "replace").replace('"', "")
        subtype = re.sub(r"[^a-z0-9.+-]", "", content_type.split("/", 1)[1]) or "mixed"
        rebuilt = f'Content-Type: multipart/{subtype}; boundary="{quoted}"\r\n\r\n'.encode() + body
        self.walk(_parse(rebuilt, policy.compat32), depth)

    def smime(self, part: Message, content_type: str) -> None:
        if (_param(part, "smime-type") or "").lower() == "signed-data":
            self.is_signed = True
            self.notices.append(
                "This message is signed in S/MIME's opaque format, which Relaydesk cannot show; "
                "the original is attached as smime.p7m."
            )
        else:
            self.is_encrypted = True
            self.notices.append(
                "This message is encrypted (S/MIME) and cannot be shown; the encrypted original is "
                "attached as smime.p7m."
            )
        self.attach(part, content_type)


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [block for block in payload if isinstance(block, Message)] if isinstance(payload, list) else []


def _bounce_info(report: Message, children: list[Message]) -> BounceInfo:
    failed: list[str] = []
    status: str | None = None
    original: str | None = None
    for child in children:
        content_type = _content_type(child)
        if content_type == "message/delivery-status":
            for block in _status_blocks(child):
                action = (_first(block, "action") or "").strip().lower()
                code = (_first(block, "status") or "").strip()
                recipient = _first(block, "final-recipient") or _first(block, "original-recipient")
                if recipient is None or not (action.startswith("failed") or code.startswith("5")):
                    continue
                address = normalize_address(recipient.split(";", 1)[-1])
                if address and address not in failed:
                    failed.append(address)
                    status = status or (code.split()[0] if code else None)
        elif content_type in ("message/rfc822", "message/global") and original is None:
            inner = child.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = normalize_message_id(_first(inner[0], "message-id"))
        elif content_type == "text/rfc822-headers" and original is None:
            headers = _parse(_payload_bytes(child), policy.compat32)
            original = normalize_message_id(_first(headers, "message-id"))
    for value in _raw_values(report, "x-failed-recipients"):
        for _, address in getaddresses([value]):
            normalized = normalize_address(address)
            if normalized and normalized not in failed:
                failed.append(normalized)
    return BounceInfo(original_message_id=original, failed_recipients=failed, status=status)


# --- the entry point ------------------------------------------------------------------------------


def _parse(raw: bytes, message_policy: policy.Policy) -> Message:
    return email.message_from_bytes(raw, policy=message_policy)


_REMOTE_IMAGE = re.compile(r"<img\b[^>]*\bsrc=\"(?:https?:)?//", re.IGNORECASE)


def _body(walk: _Walk, limits: Limits) -> tuple[str, str | None, str, str, str | None, str | None]:
    """text, html, new_text, quoted_text, new_html, quoted_html from what the walk collected."""
    text = "\n\n".join(t.strip("\n") for t in walk.texts if t.strip())
    raw_html = "\n".join(walk.htmls) if walk.htmls else None
    if raw_html is not None and _html_depth(raw_html) > limits.max_html_depth:
        walk.defect("html_too_deep")
        walk.attachments.append(Attachment("message.html", "text/html", raw_html.encode("utf-8")))
        if not text:
            text = re.sub(r"\n{3,}", "\n\n", unescape(re.sub(r"<[^>]*>", " ", raw_html))).strip()
        raw_html = None
    html = new_html = quoted_html = None
    if raw_html is not None:
        new_html, quoted_html = split_reply_html(raw_html)
        # Unsplit, the new part is the whole HTML, already sanitised.
        html = sanitize_html(raw_html) if quoted_html else new_html
    if not text and html is not None:
        text = html_to_text(html)
        if quoted_html:
            new_text, quoted_text = html_to_text(new_html or ""), html_to_text(quoted_html)
        else:
            new_text, quoted_text = text, ""
    else:
        new_text, quoted_text = split_reply(text)
    if walk.notices:
        notice = "\n\n".join(walk.notices)
        text, new_text = (
            "\n\n".join(t for t in (notice, text) if t),
            "\n\n".join(t for t in (notice, new_text) if t),
        )
    return _clean(text), html, _clean(new_text), _clean(quoted_text), new_html, quoted_html


def _build(raw: bytes, msg: Message, limits: Limits) -> ParsedMail:
    walk = _Walk(limits=limits)
    walk.walk(msg, 1)
    text, html, new_text, quoted_text, new_html, quoted_html = _body(walk, limits)
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    from_name, from_address = senders[0] if senders else ("", None)
    return_path = _first(msg, "return-path")
    content_type = _content_type(msg)
    report_type = None
    if content_type == "multipart/report":
        report_type = (_param(msg, "report-type") or "").lower() or None
    return ParsedMail(
        message_id=normalize_message_id(_first(msg, "message-id")),
        in_reply_to=_message_ids(msg, "in-reply-to"),
        references=_message_ids(msg, "references"),
        subject=_unstructured(msg, "subject") or "",
        from_address=from_address,
        from_name=from_name,
        reply_to=[address for _, address in _addresses(msg, "reply-to")],
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        delivered_to=[
            address
            for name in ("delivered-to", "x-original-to", "envelope-to")
            for _, address in _addresses(msg, name)
        ],
        date=_parse_date(_first(msg, "date")),
        text=text,
        html=html,
        new_text=new_text,
        quoted_text=quoted_text,
        new_html=new_html,
        quoted_html=quoted_html,
        attachments=walk.attachments,
        auto_submitted=_unstructured(msg, "auto-submitted"),
        precedence=_unstructured(msg, "precedence"),
        x_loop=_unstructured(msg, "x-loop"),
        x_autoreply=_unstructured(msg, "x-autoreply") or _unstructured(msg, "x-autorespond"),
        list_id=_unstructured(msg, "list-id"),
        return_path=None if return_path is None else "".join(return_path.split()).strip("<>"),
        x_auto_response_suppress=_unstructured(msg, "x-auto-response-suppress"),
        content_type=content_type,
        report_type=report_type,
        is_bounce=walk.bounce is not None,
        bounce=walk.bounce,
        is_encrypted=walk.is_encrypted,
        is_signed=walk.is_signed,
        has_remote_images=bool(html and _REMOTE_IMAGE.search(html)),
        raw_size=len(raw),
        defects=walk.defects,
    )


def parse_message(raw: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ParsedMail:
    """Parse one inbound message. Raises MailParseError (and nothing else) when it cannot."""
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        raise MailParseError("not_bytes", f"A message must be bytes, not {type(raw).__name__}.")
    if not raw.strip():
        raise MailParseError("empty", "The message is empty.")
    check_limits(raw, limits)
    failure: Exception | None = None
    for message_policy in (PARSE_POLICY, policy.compat32):
        try:
            parsed = _build(raw, _parse(raw, message_policy), limits)
        except MailParseError:
            raise
        except RecursionError as exc:
            raise MailParseError("too_deep", "The message is nested too deeply to parse.") from exc
        except Exception as exc:  # a stdlib parser bug on malformed input: try the other policy
            failure = exc
            continue
        if message_policy is policy.compat32:
            parsed.defects.append("compat32_fallback")
        return parsed
    raise MailParseError(
        "malformed", f"The message could not be parsed: {type(failure).__name__}: {failure}"
    ) from failure
