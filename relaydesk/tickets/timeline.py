"""Human sentences for TicketEvent rows, as the ticket's timeline shows them."""

from __future__ import annotations

from typing import Any

from relaydesk.accounts.models import Level
from relaydesk.tickets.models import EventKind, MessageKind, Priority, Status, TicketEvent


def _label(choices: Any, value: str | int) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value) or "—"


def event_actor(event: TicketEvent) -> str:
    """Who did it: the agent, the customer for their own messages, else Relaydesk itself."""
    if event.actor is not None:
        return event.actor.full_name
    if event.kind == EventKind.MESSAGE and event.new_value == MessageKind.CUSTOMER:
        return "Customer"
    return "Relaydesk"


def describe_event(event: TicketEvent) -> str:
    kind = event.kind
    if kind == EventKind.CREATED:
        return f"created the ticket ({event.data.get('channel', '')})"
    if kind == EventKind.STATUS:
        reason = event.data.get("reason")
        suffix = f" ({reason})" if reason else ""
        return f"status {_label(Status, event.old_value)} → {_label(Status, event.new_value)}{suffix}"
    if kind == EventKind.REOPENED:
        return f"reopened the ticket ({_label(Status, event.old_value)} → {_label(Status, event.new_value)})"
    if kind == EventKind.PRIORITY:
        old = _label(Priority, int(event.old_value)) if event.old_value.isdigit() else event.old_value
        new = _label(Priority, int(event.new_value)) if event.new_value.isdigit() else event.new_value
        return f"priority {old} → {new}"
    if kind == EventKind.ASSIGNEE:
        if not event.new_value:
            return f"unassigned {event.old_value}"
        return f"assigned to {event.new_value}"
    if kind == EventKind.TEAM:
        return f"team {event.old_value or '—'} → {event.new_value or '—'}"
    if kind == EventKind.LEVEL:
        return f"level {_label(Level, event.old_value)} → {_label(Level, event.new_value)}"
    if kind == EventKind.TAGS:
        parts = []
        if event.data.get("added"):
            parts.append("added tags " + ", ".join(event.data["added"]))
        if event.data.get("removed"):
            parts.append("removed tags " + ", ".join(event.data["removed"]))
        return "; ".join(parts) or "changed tags"
    if kind == EventKind.MESSAGE:
        sentences: dict[str, str] = {
            MessageKind.CUSTOMER: "wrote",
            MessageKind.REPLY: "replied to the customer",
            MessageKind.NOTE: "added an internal note",
            MessageKind.SYSTEM: "system message",
        }
        return sentences.get(event.new_value, "added a message")
    if kind == EventKind.MERGED:
        return f"merged into #{event.new_value}"
    if kind == EventKind.FOLLOW_UP:
        return f"follow-up #{event.new_value} opened from a customer reply"
    if kind == EventKind.SLA:
        clock = str(event.data.get("clock", event.field)).replace("_", " ")
        stage = "breached" if event.new_value == "breach" else "reached its warning threshold"
        actions = event.data.get("actions") or []
        done = f": {'; '.join(actions)}" if actions else ""
        policy = event.data.get("policy")
        return f"SLA {clock} {stage}{f' ({policy})' if policy else ''}{done}"
    if kind == EventKind.FIELD:
        return f"{event.field} {event.old_value or '—'} → {event.new_value or '—'}"
    return kind
