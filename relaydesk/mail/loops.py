"""Is an inbound message written by a machine? Then Relaydesk must not answer it automatically.

``is_automatic`` returns the reason (for the ticket timeline and the logs) or None for a message
a person wrote. The caller still stores the message; it only skips automatic answers
(acknowledgements, CSAT surveys, auto-replies) so two robots never mail each other for ever.
Checks run strongest first, so the reason names the most telling signal.
"""

from __future__ import annotations

from collections.abc import Iterable

from relaydesk.mail.parsing import ParsedMail, normalize_address
from relaydesk.mail.thread_refs import looks_like_own_message_id

_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
# X-Auto-Response-Suppress values that senders of generated mail (Exchange OOF replies, calendar
# and notification systems) set; a person's Outlook does not.
_SUPPRESS_VALUES = {"all", "oof", "autoreply"}
_DAEMON_LOCAL_PARTS = {"mailer-daemon", "postmaster"}
_NO_REPLY_LOCAL_PARTS = {"noreply", "no-reply", "donotreply", "do-not-reply", "no_reply"}
_REPORTS = {
    "delivery-status": "delivery status report",
    "disposition-notification": "read receipt",
    "feedback-report": "feedback report",
}


def _first_token(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def is_automatic(
    parsed: ParsedMail, *, own_message_id_domain: str, own_addresses: Iterable[str] = ()
) -> str | None:
    """Why ``parsed`` looks machine-sent, or None for a human message.

    ``own_addresses`` are our mailbox addresses: mail from one of them is our own coming back.
    """
    if looks_like_own_message_id(parsed.message_id, own_message_id_domain):
        return "our own Message-ID"
    sender = (normalize_address(parsed.from_address or "") or "").lower()
    own = {(normalize_address(address) or "").lower() for address in own_addresses}
    if sender and sender in own:
        return "sent from our own address"
    if parsed.is_bounce or parsed.report_type in _REPORTS:
        return _REPORTS.get(parsed.report_type or "", "delivery status report")
    auto_submitted = _first_token(parsed.auto_submitted)
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    local_part = sender.rpartition("@")[0]
    if local_part in _DAEMON_LOCAL_PARTS or local_part.startswith("mailer-daemon"):
        return "mailer-daemon sender"
    if parsed.return_path == "":
        return "empty Return-Path"
    suppress = {token.strip().lower() for token in (parsed.x_auto_response_suppress or "").split(",")}
    if suppress & _SUPPRESS_VALUES:
        return "X-Auto-Response-Suppress"
    if _first_token(parsed.x_autoreply) not in ("", "no", "false", "0"):
        return "X-Autoreply"
    if parsed.x_loop is not None:
        return "X-Loop"
    precedence = _first_token(parsed.precedence)
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if parsed.list_id is not None:
        return "List-Id"
    if local_part in _NO_REPLY_LOCAL_PARTS:
        return "no-reply sender"
    return None
