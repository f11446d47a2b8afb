"""Sanitising untrusted HTML and turning plain text into safe HTML."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}

_URL_RE = re.compile(r"(https?://[^\s<>\"']+)")


def sanitize_html(value: str) -> str:
    """Return HTML safe to show inside Relaydesk: no script, no event handlers, no javascript: URLs."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def text_to_html(text: str) -> str:
    """Plain text to paragraphs, with links made clickable; the result is sanitised."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    parts = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph)
        linked = _URL_RE.sub(r'<a href="\1">\1</a>', escaped)
        parts.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return sanitize_html("".join(parts))


def html_to_text(value: str) -> str:
    """A readable plain-text rendering of sanitised HTML (for previews and search)."""
    without_tags = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", value), tags=set())
    text = html.unescape(without_tags)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
