"""Inbound mail, step one: store the raw bytes before anything else (at-least-once, idempotent).

Every path in — IMAP polling, the webhook, ``relaydesk ingest-mail`` — calls ``store_raw`` and
acknowledges its source (\\Seen or move, HTTP 2xx, exit status 0) only after the row is committed.
The row's unique ``dedupe_key`` (mailbox + normalised Message-ID, else the SHA-256 of the bytes)
turns a second delivery of the same message into a no-op. Processing (parse, thread, write the
ticket message) is a separate step that can fail into quarantine without losing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from django.db import IntegrityError, transaction

from relaydesk.core.jobs import enqueue_on_commit
from relaydesk.mail.models import InboundEmail, InboundStatus, Mailbox
from relaydesk.mail.parsing import decode_rfc2047, normalize_address, normalize_message_id

_HEADER_SCAN_BYTES = 256 * 1024  # enough for any sane header block; limits are checked later


def _header_block(raw: bytes) -> Message | None:
    """The top-level headers alone (cheap: the body is not parsed); None when unreadable."""
    head, _, _ = raw[:_HEADER_SCAN_BYTES].partition(b"\r\n\r\n")
    if len(head) == len(raw[:_HEADER_SCAN_BYTES]):
        head, _, _ = head.partition(b"\n\n")
    try:
        return BytesHeaderParser(policy=compat32).parsebytes(head + b"\n\n")
    except Exception:  # a header block that cannot be read at all
        return None


def _header_message_id(raw: bytes) -> str | None:
    headers = _header_block(raw)
    if headers is None:
        return None
    try:
        return normalize_message_id(str(headers.get("Message-ID", "") or ""))
    except Exception:  # a malformed header simply has no usable Message-ID
        return None


def header_summary(raw: bytes) -> tuple[str, str]:
    """(sender address, subject) from the header block alone, for mail too broken or too big to
    parse: an admin looking at the quarantine still sees who sent what. Empty strings if unreadable."""
    headers = _header_block(raw)
    if headers is None:
        return "", ""
    try:
        _name, address = parseaddr(decode_rfc2047(str(headers.get("From", "") or "")))
        sender = normalize_address(address) or ""
        subject = " ".join(decode_rfc2047(str(headers.get("Subject", "") or "")).split())
    except Exception:  # unreadable values: nothing to show
        return "", ""
    return sender[:255], subject[:255]


def dedupe_key(raw: bytes, mailbox: Mailbox | None) -> tuple[str, str | None]:
    message_id = _header_message_id(raw)
    scope = f"mb{mailbox.pk}" if mailbox is not None else "mb-"
    if message_id:
        return f"{scope}:id:{message_id}"[:300], message_id
    return f"{scope}:sha256:{hashlib.sha256(raw).hexdigest()}", None


def store_raw(raw: bytes, *, mailbox: Mailbox | None, source: str) -> tuple[InboundEmail, bool]:
    """Store ``raw`` (committing it) and return (row, created). A duplicate returns the first row."""
    key, message_id = dedupe_key(raw, mailbox)
    # Insert first: a second delivery is the rare case, and the unique key refuses it anyway
    # (one statement per message instead of a look-up and then the insert).
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
    except IntegrityError:  # delivered before (or by a concurrent delivery that won the race)
        # The stored bytes are not read back: callers want the row's id and status.
        return InboundEmail.objects.defer("raw").get(dedupe_key=key), False
    return row, True


def receive(raw: bytes, *, mailbox: Mailbox | None, source: str) -> tuple[InboundEmail, bool]:
    """``store_raw``, then process the row in a job once it is committed (also a duplicate whose
    first delivery was never processed: the job does nothing for a row already done)."""
    row, created = store_raw(raw, mailbox=mailbox, source=source)
    if row.status == InboundStatus.RECEIVED:
        from relaydesk.mail.intake_tasks import process_inbound_email  # huey registers on import

        enqueue_on_commit(process_inbound_email, row.pk)
    return row, created


# --- the webhook's secret -------------------------------------------------------------------------


def hash_webhook_secret(secret: str) -> str:
    """What ``Mailbox.webhook_secret_hash`` holds: the SHA-256 (hex) of the secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def new_webhook_secret() -> tuple[str, str]:
    """A fresh secret (shown to the admin once) and the hash to store."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_webhook_secret(secret)


_NO_HASH = hash_webhook_secret("no mailbox has this secret")


def webhook_secret_matches(mailbox: Mailbox | None, presented: str) -> bool:
    """Constant-time check of ``presented`` against the mailbox's stored hash.

    A missing or inactive mailbox, or one without a webhook secret, is compared against a dummy
    hash, so the answer takes the same time whichever of them it was.
    """
    stored = mailbox.webhook_secret_hash if mailbox is not None and mailbox.is_active else ""
    matches = hmac.compare_digest(hash_webhook_secret(presented), stored or _NO_HASH)
    return matches and bool(stored) and bool(presented)
