"""Properties: any bytes parse or raise MailParseError; stored HTML is always safe; the text helpers
never raise and never lose words."""

from __future__ import annotations

import base64
import quopri
import re
import unicodedata
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaydesk.mail.parsing import (
    MailParseError,
    ParsedMail,
    decode_rfc2047,
    normalize_address,
    normalize_message_id,
    parse_message,
    safe_filename,
)
from relaydesk.mail.quotes import is_attribution, split_reply, split_reply_html
from relaydesk.mail.thread_refs import (
    looks_like_own_message_id,
    make_message_id,
    make_reply_address,
    parse_own_message_id,
    ticket_from_message_id,
    ticket_from_reply_address,
    ticket_from_subject,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = b"property-secret"
DOMAIN = "support.example.com"

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<body onload=alert(1)>",
    '<div onmouseover="x()" onclick=y>hover</div>',
    '<a href="javascript:alert(1)">a</a>',
    '<a href="JaVaScRiPt:alert(1)">b</a>',
    '<a href="java&#x09;script:alert(1)">c</a>',
    '<a href="&#106;avascript:alert(1)">d</a>',
    '<a href="  javascript:alert(1)">e</a>',
    '<a href="vbscript:msgbox(1)">f</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<form action="javascript:alert(1)"><button formaction="javascript:x">g</button></form>',
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<math><mi xlink:href="javascript:alert(1)">h</mi></math>',
    '<div style="background:url(javascript:alert(1))">i</div>',
    "<!--<script>alert(1)</script>-->",
    "<style>@import 'javascript:alert(1)';</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<div class="gmail_quote"><blockquote type="cite" onclick="x">old</blockquote></div>',
    '<div id="divRplyFwdMsg"><b>From:</b> a<br><b>Sent:</b> b<br><b>Subject:</b> c</div>',
    "<p>On Mon, 1 Jan 2024, Ann &lt;a@example.com&gt; wrote:</p><blockquote>old</blockquote>",
    '<img src="cid:part1@example.com"><img src="https://tracker.example/p.gif">',
    "<div>" * 30 + "nested" + "</div>" * 30,
]
CHARSETS = [
    "utf-8", "iso-8859-1", "windows-1252", "us-ascii", "utf-16", "shift_jis", "koi8-r", "gb2312",
    "utf-7", "x-klingon", "", "unicode_escape", "rot13", "base64", "idna", "utf-8*en", '"utf-8"',
]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
CONTENT_TYPES = [
    "text/plain", "text/html", "text/calendar", "text/rfc822-headers", "application/octet-stream",
    "image/png", "application/pkcs7-mime", "application/pkcs7-signature", "application/ms-tnef",
    "message/delivery-status", "message/rfc822", "garbage", "text/", "/", "",
]  # fmt: skip
MULTIPART_SUBTYPES = ["mixed", "alternative", "related", "signed", "encrypted", "report", "digest", ""]

words = st.text(max_size=40)
body_text = st.lists(st.one_of(words, st.sampled_from(HOSTILE_HTML)), max_size=6).map("".join)
header_text = st.one_of(
    words,
    st.sampled_from(
        ["=?utf-8?q?a=0D=0ABcc:_x@y?=", "=?bogus?b?!!?=", "=?utf-8?b?w6k=?= =?utf-8?q?x?=", "\x00"]
    ),
)


def encode_text(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset.strip('"').split("*")[0] or "utf-8", "replace")
    except (LookupError, TypeError, ValueError, UnicodeError):
        return text.encode("utf-8")


def transfer_encode(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data


@st.composite
def leaf_part(draw: st.DrawFn) -> bytes:
    content_type = draw(st.one_of(st.just("text/html"), st.sampled_from(CONTENT_TYPES)))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    body = transfer_encode(encode_text(draw(body_text), charset), encoding)
    headers = [f"Content-Type: {content_type}; charset={charset}"]
    if draw(st.booleans()):
        headers.append(f"Content-Transfer-Encoding: {encoding}")
    filename = draw(
        st.one_of(st.none(), words, st.sampled_from(["../../x.exe", "a\\b.pdf", ".", "\u202egpj.exe"]))
    )
    if filename is not None:
        disposition = draw(st.sampled_from(["attachment", "inline", "bogus"]))
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        headers.append(f'Content-Disposition: {disposition}; filename="{quoted}"')
    if draw(st.booleans()):
        headers.append(f"Content-ID: <{draw(words)}>")
    head = "\n".join(headers).encode("utf-8", "surrogateescape")
    return head + b"\n\n" + body


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(leaf_part())
    children = draw(st.lists(mime_part(depth + 1), max_size=3))
    boundary = draw(st.text(alphabet="abcXYZ019-_'=", min_size=1, max_size=12))
    subtype = draw(st.sampled_from(MULTIPART_SUBTYPES))
    declared = draw(
        st.sampled_from([f'boundary="{boundary}"', "", 'boundary="other"', f"boundary={boundary}"])
    )
    params = f"; report-type=delivery-status; {declared}" if subtype == "report" else f"; {declared}"
    body = b"".join(b"--" + boundary.encode() + b"\n" + child + b"\n" for child in children)
    if draw(st.booleans()):
        body += b"--" + boundary.encode() + b"--\n"
    return f"Content-Type: multipart/{subtype}{params}\n\n".encode() + body


@st.composite
def message(draw: st.DrawFn) -> bytes:
    headers = {
        "From": f"{draw(header_text)} <{draw(words)}@{draw(words)}>",
        "To": draw(header_text),
        "Subject": draw(header_text),
        "Message-ID": draw(st.one_of(words, st.just(make_message_id(1, 2, DOMAIN, SECRET)))),
        "References": draw(words),
        "Date": draw(st.sampled_from(["Mon, 1 Jan 2024 10:00:00 +0100", "garbage", "", "Mon, 99 Foo 99999"])),
        "Auto-Submitted": draw(st.sampled_from(["no", "auto-replied", ""])),
        "Return-Path": draw(st.sampled_from(["<>", "<a@b>", ""])),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(headers)), unique=True))
    raw_8bit = draw(st.sampled_from(["utf-8", "latin-1"]))
    head = b"".join(f"{name}: {headers[name]}\n".encode(raw_8bit, "replace") for name in chosen)
    return head + draw(mime_part())


# --- safety checks --------------------------------------------------------------------------------

_DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}


class _SafetyChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "svg", "math", "form", "style", "meta", "base"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name == "style":
                self.problems.append(f"{tag} style=")
            if name in _URL_ATTRIBUTES:
                compact = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
                if compact.startswith(_DANGEROUS_SCHEMES):
                    self.problems.append(f"{tag} {name}={value}")


def assert_safe_html(html: str | None) -> None:
    if html is None:
        return
    assert "<script" not in html.lower()
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.IGNORECASE)
    checker = _SafetyChecker()
    checker.feed(html)
    checker.close()
    assert checker.problems == []


def assert_clean_text(value: str) -> None:
    assert "\x00" not in value
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def assert_safe(parsed: ParsedMail) -> None:
    for html in (parsed.html, parsed.new_html, parsed.quoted_html):
        assert_safe_html(html)
    for line in (parsed.subject, parsed.from_name, *(name for name, _ in (*parsed.to, *parsed.cc))):
        assert "\r" not in line
        assert "\n" not in line
        assert_clean_text(line)
    for text in (parsed.text, parsed.new_text, parsed.quoted_text):
        assert_clean_text(text)
    assert parsed.date is None or parsed.date.tzinfo is not None
    for attachment in parsed.attachments:
        name = attachment.filename
        assert name
        assert "/" not in name
        assert "\\" not in name
        assert not name.startswith(".")
        assert all(unicodedata.category(ch)[0] != "C" for ch in name)
        assert isinstance(attachment.content, bytes)


def parse_or_refuse(raw: bytes) -> ParsedMail | None:
    """The parsed message, or None when it was refused with a MailParseError (anything else fails)."""
    refusal: MailParseError | None = None
    try:
        return parse_message(raw)
    except MailParseError as error:
        refusal = error
    assert refusal.reason
    assert refusal.message
    return None


# --- properties -----------------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_parse_or_raise_mail_parse_error(raw: bytes) -> None:
    parsed = parse_or_refuse(raw)
    if parsed is not None:
        assert_safe(parsed)


@FAST
@given(message())
def test_generated_messages_parse_safely(raw: bytes) -> None:
    parsed = parse_or_refuse(raw)
    if parsed is not None:
        assert_safe(parsed)
        assert parsed.raw_size == len(raw)


@FAST
@given(st.lists(st.one_of(words, st.sampled_from(HOSTILE_HTML)), max_size=8).map("".join))
def test_html_bodies_are_always_sanitised(html: str) -> None:
    raw = b"From: a@example.com\nContent-Type: text/html; charset=utf-8\n\n" + html.encode()
    parsed = parse_or_refuse(raw)
    assert parsed is not None
    assert_safe(parsed)


@FAST
@given(st.text())
def test_split_reply_never_raises_or_loses_words(text: str) -> None:
    new, folded = split_reply(text)
    assert f"{new}\n{folded}".split() == text.split()
    if text.strip():
        assert new.strip()


@FAST
@given(st.lists(st.one_of(words, st.sampled_from(HOSTILE_HTML)), max_size=8).map("".join))
def test_split_reply_html_never_raises_and_is_safe(html: str) -> None:
    new, folded = split_reply_html(html)
    assert_safe_html(new)
    assert_safe_html(folded)


@FAST
@given(st.text(), st.text(), st.binary(min_size=1, max_size=40))
def test_text_helpers_never_raise(text: str, other: str, secret: bytes) -> None:
    is_attribution(text)
    ticket_from_subject(text)
    ticket_from_message_id(text, other, secret)
    parse_own_message_id(text, DOMAIN, secret)
    ticket_from_reply_address(text, secret)
    looks_like_own_message_id(text, other)
    normalize_message_id(text)
    normalize_address(text)
    assert "/" not in safe_filename(text, default="x")
    assert_clean_text(decode_rfc2047(text).replace("\x00", ""))


@FAST
@given(
    st.integers(1, 2**63 - 1),
    st.integers(1, 2**63 - 1),
    st.integers(1, 2**63 - 1),
    st.binary(min_size=1, max_size=64),
)
def test_signed_ids_verify_only_unchanged(
    ticket_id: int, message_id: int, other_id: int, secret: bytes
) -> None:
    mid = make_message_id(ticket_id, message_id, DOMAIN, secret)
    assert ticket_from_message_id(mid, DOMAIN, secret) == ticket_id
    if other_id != ticket_id:
        forged = mid.replace(f"rd.{ticket_id}.", f"rd.{other_id}.", 1)
        assert ticket_from_message_id(forged, DOMAIN, secret) is None
    address = make_reply_address("support@example.com", ticket_id, secret)
    assert ticket_from_reply_address(address, secret) == ticket_id
    if other_id != ticket_id:
        assert (
            ticket_from_reply_address(address.replace(f"+t{ticket_id}.", f"+t{other_id}.", 1), secret) is None
        )
