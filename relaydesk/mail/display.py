"""How an inbound email's original HTML is shown: in a sandboxed frame, remote images blocked.

The HTML was sanitised with nh3 when it was stored; it is still shown only inside an ``<iframe
sandbox>`` (no scripts, no same-origin access, no forms) whose own Content-Security-Policy allows
images from ``data:`` only — so nothing is fetched from a sender's server (tracking pixels) until the
agent asks, and then straight from the agent's browser, never by the server. ``cid:`` references
are resolved against the inline parts of the same message only, embedded as ``data:`` URLs.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable

from relaydesk.tickets.models import Attachment

# Inline images are embedded in the frame; bigger ones stay downloadable attachments.
MAX_INLINE_IMAGE_BYTES = 2 * 1024 * 1024
_CID_RE = re.compile(r"""(src\s*=\s*["']?)cid:([^"'\s>]+)""", re.IGNORECASE)
_FRAME_STYLE = (
    "body{font:14px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;margin:12px;"
    "word-wrap:break-word}img{max-width:100%;height:auto}blockquote{margin:0 0 0 8px;padding-left:10px;"
    "border-left:3px solid #d0d7de;color:#57606a}table{max-width:100%}"
)


def _normalise_cid(value: str) -> str:
    return value.strip().strip("<>").lower()


def inline_images(attachments: Iterable[Attachment]) -> dict[str, str]:
    """``content-id`` → ``data:`` URL for the message's own inline images (small enough to embed)."""
    images = {}
    for attachment in attachments:
        if not attachment.content_id or not attachment.content_type.startswith("image/"):
            continue
        if attachment.size > MAX_INLINE_IMAGE_BYTES or attachment.content_type == "image/svg+xml":
            continue
        with attachment.file.open("rb") as handle:
            data = base64.b64encode(handle.read()).decode()
        images[_normalise_cid(attachment.content_id)] = f"data:{attachment.content_type};base64,{data}"
    return images


def resolve_cids(body: str, images: dict[str, str]) -> str:
    """Point ``cid:`` sources at embedded data; an unknown cid (another message's) shows nothing."""

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + images.get(_normalise_cid(match.group(2)), "about:blank")

    return _CID_RE.sub(replace, body)


def frame_document(body: str, *, remote_images: bool) -> str:
    """The ``srcdoc`` of the sandboxed frame: its own CSP, a readable default style, the body."""
    image_sources = "data: https: http:" if remote_images else "data:"
    policy = f"default-src 'none'; img-src {image_sources}; style-src 'unsafe-inline'"
    return (
        f'<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'
        f'<base target="_blank"><style>{_FRAME_STYLE}</style></head><body>{body}</body></html>'
    )
