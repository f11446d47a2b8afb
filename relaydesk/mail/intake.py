"""Inbound mail, step one: store the raw bytes before anything else (at-least-once, idempotent).

Every path in — IMAP polling, the webhook, ``relaydesk ingest-mail`` — calls ``store_raw`` and
acknowledges its source (\\Seen or move, HTTP 2xx, exit status 0) only after the row is committed.
The row's unique ``dedupe_key`` (mailbox + normalised Message-ID, else the SHA-256 of the bytes)
turns a second delivery of the same message into a no-op. Processing (parse, thread, write the
ticket message) is a separate step that can fail into quarantine without losing anything.
"""

from __future__ import annotations

import hashlib
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.db import IntegrityError, transaction

from relaydesk.mail.models import InboundEmail, Mailbox
from relaydesk.mail.parsing import normalize_message_id

_HEADER_SCAN_BYTES = 256 * 1024  # enough for any sane header block; limits are checked later


def _header_message_id(raw: bytes) -> str | None:
    head, _, _ = raw[:_HEADER_SCAN_BYTES].partition(b"\r\n\r\n")
    if len(head) == len(raw[:_HEADER_SCAN_BYTES]):
        head, _, _ = head.partition(b"\n\n")
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\n\n")
        return normalize_message_id(str(headers.get("Message-ID", "") or ""))
    except Exception:  # any malformed header block simply has no usable Message-ID
        return None


def dedupe_key(raw: bytes, mailbox: Mailbox | None) -> tuple[str, str | None]:
    message_id = _header_message_id(raw)
    scope = f"mb{mailbox.pk}" if mailbox is not None else "mb-"
    if message_id:
        return f"{scope}:id:{message_id}"[:300], message_id
    return f"{scope}:sha256:{hashlib.sha256(raw).hexdigest()}", None


def store_raw(raw: bytes, *, mailbox: Mailbox | None, source: str) -> tuple[InboundEmail, bool]:
    """Store ``raw`` (committing it) and return (row, created). A duplicate returns the first row."""
    key, message_id = dedupe_key(raw, mailbox)
    existing = InboundEmail.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = InboundEmail.objects.create(
                mailbox=mailbox,
                source=source,
                dedupe_key=key,
                raw=raw,
                size=len(raw),
                header_message_id=message_id or "",
            )
    except IntegrityError:  # a concurrent delivery of the same message won the race
        return InboundEmail.objects.get(dedupe_key=key), False
    return row, True
