"""Folding quoted history and signatures out of a reply, in plain text and in HTML.

Both functions return ``(new, folded)``: what the customer wrote this time, and the quoted
history and signature that the UI shows collapsed. Nothing is dropped: the two halves together
hold every word of the input. When everything would be folded (a bare forward, a message that
starts with a quote), the whole message comes back as new, because an empty reply is worse than
an unfolded one.

Pure functions; they never raise on any text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from relaydesk.core.sanitize import html_to_text, sanitize_html

# --- plain text -----------------------------------------------------------------------------------

# "On <date>, <name> wrote:" in the languages our customers write in. The line may be wrapped over
# up to three lines by the client, so the patterns run over the joined window.
_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        On\s.{1,300}\swrote\s?:                          # en
      | Am\s.{1,300}\sschrieb(?:\s.{0,200})?:            # de
      | Le\s.{1,300}\sa\s+écrit\s*:                      # fr
      | El\s.{1,300}\sescribió\s*:                       # es
      | Em\s.{1,300}\sescreveu\s*:                       # pt
      | Op\s.{1,300}\s(?:schreef(?:\s.{0,200})?|het\svolgende\sgeschreven)\s*:  # nl
    )\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_ATTRIBUTION_FIRST_WORDS = {"on", "am", "le", "el", "em", "op"}

_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original\s+Message|Ursprüngliche\s+Nachricht|Message\s+d'origine"
    r"|Mensaje\s+original|Mensagem\s+original|Oorspronkelijk\s+bericht|Messaggio\s+originale)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato|Date|Datum|Data)\s*:", re.IGNORECASE
)
_HEADER_SUBJECT = re.compile(
    r"^\s*\*?(?:Subject|Betreff|Objet|Asunto|Assunto|Onderwerp|Oggetto)\s*:", re.IGNORECASE
)
_SEPARATOR = re.compile(r"^\s*(?:_{5,}|-{5,})\s*$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:Sent\s+from\s+my\s+\S.{0,40}|Sent\s+from\s+(?:Mail|Outlook|Yahoo\s+Mail)\b.{0,40}"
    r"|Get\s+Outlook\s+for\s+\S.{0,20}|Von\s+meinem\s+\S+(?:\s+\S+)?\s+gesendet"
    r"|Envoyé\s+de\s+mon\s+\S.{0,30}|Enviado\s+desde\s+mi\s+\S.{0,30}|Enviado\s+do\s+meu\s+\S.{0,30}"
    r"|Verzonden\s+(?:vanaf|met)\s+mijn\s+\S.{0,30})\s*$",
    re.IGNORECASE,
)


def is_attribution(text: str) -> bool:
    """True for an "On … wrote:" line (any supported language), already joined into one string.

    A date or an address must appear in it, so prose such as "On Monday I wrote:" stays new text.
    """
    if len(text) > 600 or not _ATTRIBUTION.match(text):
        return False
    return any(ch.isdigit() for ch in text) or "@" in text


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_at(lines: list[str], index: int) -> bool:
    words = lines[index].split(None, 1)
    if not words or words[0].lower() not in _ATTRIBUTION_FIRST_WORDS:
        return False
    window = ""
    for line in lines[index : index + 3]:
        # Gmail wraps "<support@example.com>:" so that a lone ">:" starts the next line.
        if _is_quoted(line) and not (len(line.strip()) <= 40 and line.rstrip().endswith(":")):
            break
        window = f"{window} {line.strip()}" if window else line.strip()
        if is_attribution(window):
            return True
    return False


def _outlook_header_at(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = lines[index + 1 : index + 6]
    return any(_HEADER_SENT.match(line) for line in following) and any(
        _HEADER_SUBJECT.match(line) for line in following
    )


# Lines that could start folded material; only these get the detailed checks below.
_CANDIDATE = re.compile(
    r"^[ \t]*(?:--|\*?(?:From|Von|De|Van|Da)\s*:"
    r"|(?:On|Am|Le|El|Em|Op|Sent|Get|Von)\s|Envoy|Enviado|Verzonden)",
    re.MULTILINE | re.IGNORECASE,
)
# Folding is cosmetic: past this many candidate lines (a hostile message) nothing is folded.
_MAX_CANDIDATES = 5000


def _first_marker(text: str, lines: list[str]) -> int | None:
    """Index of the first line that starts folded material (attribution, header block, signature)."""
    index = position = 0
    for examined, match in enumerate(_CANDIDATE.finditer(text)):
        if examined >= _MAX_CANDIDATES:
            return None
        index += text.count("\n", position, match.start())
        position = match.start()
        line = lines[index]
        stripped = line.rstrip("\r\n")
        if stripped.rstrip() == "--" or _MOBILE_SIGNATURE.match(stripped):
            return index
        if _ORIGINAL_MESSAGE.match(stripped) or _attribution_at(lines, index):
            return index
        if _outlook_header_at(lines, index):
            # Outlook draws a rule above the header block; it belongs to the history too.
            if index > 0 and _SEPARATOR.match(lines[index - 1]):
                return index - 1
            return index
    return None


def _trailing_quote(lines: list[str]) -> int | None:
    """Start of the ``>`` block that ends the message (bottom of a top-posted reply), if any."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and (_is_quoted(lines[start - 1]) or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    return start if start < end else None


def split_reply(text: str) -> tuple[str, str]:
    """Split plain text into (new part, folded quoted history and signature)."""
    if not isinstance(text, str):
        return "", ""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    candidates = [i for i in (_first_marker(normalized, lines), _trailing_quote(lines)) if i is not None]
    whole = normalized.strip("\n").rstrip()
    if not candidates:
        return whole, ""
    cut = min(candidates)
    new = "\n".join(lines[:cut]).strip("\n").rstrip()
    if not new.strip():
        return whole, ""
    return new, "\n".join(lines[cut:]).strip("\n").rstrip()


# --- HTML -----------------------------------------------------------------------------------------

# Markers the common clients put around quoted history. nh3 strips class and id attributes, so
# these are only seen in raw HTML; on sanitised HTML the text fallbacks below do the work.
_QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")
_SIGNATURE_CLASSES = ("gmail_signature", "moz-signature")
_QUOTE_IDS = {"divrplyfwdmsg", "x_divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr"}  # fmt: skip
_DROPPED = {"script", "style", "head", "title", "template"}
_BLOCKS = {"div", "p", "table", "td", "li", "section", "article", "blockquote", "font", "span"}
# Past this depth new tags are ignored (their text is kept): nothing recurses deeper than this.
_MAX_TREE_DEPTH = 200
# html.parser reads about a MB a second; longer HTML (rare in replies) is returned unsplit.
MAX_HTML_TO_SPLIT = 1024 * 1024


@dataclass(eq=False)
class _Node:
    tag: str  # "" for a text node
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    text: str = ""
    parent: _Node | None = None

    def attr(self, name: str) -> str:
        for key, value in self.attrs:
            if key == name:
                return value or ""
        return ""

    def plain_text(self, limit: int = 2000) -> str:
        """Whitespace-collapsed text of this subtree, cut off at about ``limit`` characters."""
        parts: list[str] = []
        size = visited = 0
        stack = [self]
        while stack and size < limit and visited < 4 * limit:
            node = stack.pop()
            visited += 1
            if not node.tag:
                parts.append(node.text)
                size += len(node.text)
            elif node.tag == "br":
                parts.append("\n")
            else:
                stack.extend(reversed(node.children))
        return " ".join(" ".join(parts).split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node(tag="root")
        self.stack = [self.root]
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += 1
            return
        if self.dropping:
            return
        parent = self.stack[-1]
        node = _Node(tag=tag, attrs=attrs, parent=parent)
        if tag in _VOID:
            parent.children.append(node)
        elif len(self.stack) < _MAX_TREE_DEPTH:
            parent.children.append(node)
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED or self.dropping:
            return
        self.stack[-1].children.append(_Node(tag=tag, attrs=attrs, parent=self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.dropping and data:
            self.stack[-1].children.append(_Node(tag="", text=data, parent=self.stack[-1]))


def _parse_tree(value: str) -> _Node | None:
    builder = _TreeBuilder()
    try:
        builder.feed(value)
        builder.close()
    except Exception:  # html.parser has raised on odd declarations in some versions: no split then
        return None
    return builder.root


def _preorder(root: _Node) -> list[_Node]:
    order: list[_Node] = []
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(node.children))
    return order


def _classes(node: _Node) -> list[str]:
    return node.attr("class").lower().split()


def _is_marker(node: _Node) -> bool:
    if not node.tag:
        return False
    classes = _classes(node)
    if any(c.startswith(_QUOTE_CLASSES) or c in _SIGNATURE_CLASSES for c in classes):
        return True
    if node.attr("id").lower() in _QUOTE_IDS:
        return True
    return node.tag == "blockquote" and node.attr("type").lower() == "cite"


def _is_blank(node: _Node) -> bool:
    return (not node.tag and not node.text.strip()) or node.tag == "br"


def _previous_siblings(node: _Node) -> list[_Node]:
    if node.parent is None:
        return []
    siblings = node.parent.children
    return list(reversed(siblings[: siblings.index(node)]))


def _extend_backwards(node: _Node) -> _Node:
    """Move the cut up to an attribution line or an <hr> written just before the quote, then out
    of wrappers that hold nothing before it (so no empty wrapper is left in the new part)."""
    for sibling in _previous_siblings(node):
        if _is_blank(sibling):
            continue
        if sibling.tag == "hr" or is_attribution(sibling.plain_text(700)):
            node = sibling
        break
    while node.parent is not None and node.parent.tag != "root":
        if not all(_is_blank(sibling) for sibling in _previous_siblings(node)):
            break
        node = node.parent
    return node


def _is_outlook_header(node: _Node) -> bool:
    if node.tag not in _BLOCKS:
        return False
    text = node.plain_text(800)
    head = text[:600]
    return (
        _HEADER_FROM.match(head) is not None
        and re.search(r"\b(?:Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato|Date|Datum)\s*:", head, re.I)
        is not None
        and re.search(r"\b(?:Subject|Betreff|Objet|Asunto|Assunto|Onderwerp|Oggetto)\s*:", head, re.I)
        is not None
    )


def _last_descendant(node: _Node) -> _Node:
    while node.children:
        node = node.children[-1]
    return node


def _find_cut(root: _Node) -> _Node | None:
    order = _preorder(root)
    for node in order:
        if _is_marker(node):
            return _extend_backwards(node)
    # Sanitised HTML has lost the markers: look at what the markers surrounded.
    position = {id(node): index for index, node in enumerate(order)}
    last_content = max(
        (i for i, node in enumerate(order) if (not node.tag and node.text.strip()) or node.tag == "img"),
        default=-1,
    )
    for node in order:
        if node.tag == "blockquote":
            start = _extend_backwards(node)
            # A blockquote that nothing follows is the quoted tail of a top-posted reply.
            trailing = last_content <= position[id(_last_descendant(node))]
            if start is not node or trailing:
                return start
        elif node.tag and _is_outlook_header(node):
            return _extend_backwards(node)
        elif not node.tag and _ORIGINAL_MESSAGE.match(node.text.strip()):
            return node
    return None


def _start_tag(node: _Node) -> str:
    attrs = "".join(
        f' {name}="{html.escape(value or "", quote=True)}"'
        for name, value in node.attrs
        if name.isidentifier()
    )
    return f"<{node.tag}{attrs}>"


def _serialize_split(root: _Node, cut: _Node) -> tuple[str, str]:
    before: list[str] = []
    after: list[str] = []
    past = False
    # Iterative walk: (node, closing?) pairs, so deep trees never hit the recursion limit.
    stack: list[tuple[_Node, bool, bool]] = [(child, False, False) for child in reversed(root.children)]
    while stack:
        node, closing, opened_past = stack.pop()
        if closing:
            (after if opened_past else before).append(f"</{node.tag}>")
            continue
        if node is cut:
            past = True
        out = after if past else before
        if not node.tag:
            out.append(html.escape(node.text, quote=False))
            continue
        out.append(_start_tag(node))
        if node.tag in _VOID:
            continue
        stack.append((node, True, past))
        stack.extend((child, False, False) for child in reversed(node.children))
    return "".join(before), "".join(after)


def _has_words(sanitised: str) -> bool:
    return bool(html_to_text(sanitised).strip()) or "<img" in sanitised


def _scrub(value: str) -> str:
    # Lone surrogates cannot cross into nh3 (Rust strings); NUL cannot be stored in PostgreSQL.
    return re.sub("[\ud800-\udfff]", "\ufffd", value).replace("\x00", "")


def split_reply_html(value: str) -> tuple[str, str]:
    """Split HTML into (new part, folded history); both halves come back sanitised.

    Client markers (Gmail's ``gmail_quote``, Thunderbird/Apple ``blockquote type=cite``, Outlook's
    ``divRplyFwdMsg``) are used when the HTML still has them (raw HTML); on already sanitised HTML
    an attribution line before a ``<blockquote>``, a trailing ``<blockquote>``, an Outlook
    "From: … Sent: … Subject:" block or "-----Original Message-----" mark the cut instead.
    """
    if not isinstance(value, str):
        return "", ""
    value = _scrub(value)
    root = _parse_tree(value) if len(value) <= MAX_HTML_TO_SPLIT else None
    cut = _find_cut(root) if root is not None else None
    if root is None or cut is None:
        return sanitize_html(value), ""
    before, after = _serialize_split(root, cut)
    new, folded = sanitize_html(before), sanitize_html(after)
    if not _has_words(new):
        return sanitize_html(value), ""
    return new, folded
