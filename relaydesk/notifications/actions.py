"""Notify people: an in-app notification row, and an email when the person asked for one."""

from __future__ import annotations

from django.utils import timezone

from relaydesk.accounts.models import User
from relaydesk.core.jobs import enqueue_on_commit
from relaydesk.notifications.models import Notification, NotificationKind

# Email defaults per kind when a person has not chosen.
EMAIL_DEFAULTS: dict[str, bool] = {
    NotificationKind.ASSIGNED: True,
    NotificationKind.CUSTOMER_REPLY: False,
    NotificationKind.MENTION: True,
    NotificationKind.SLA_WARNING: False,
    NotificationKind.SLA_BREACH: True,
}


def wants_email(user: User, kind: str) -> bool:
    return bool(user.email_notifications.get(kind, EMAIL_DEFAULTS.get(kind, False)))


def do_notify(
    *, recipient: User, kind: str, text: str, actor: User | None = None, ticket_id: int | None = None
) -> Notification | None:
    """Create the notification (never for the actor themself); email it after commit if wanted."""
    if actor is not None and recipient.pk == actor.pk:
        return None
    if not recipient.is_active:
        return None
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, actor=actor, ticket_id=ticket_id, text=text[:500]
    )
    if wants_email(recipient, kind):
        from relaydesk.notifications.tasks import email_notification

        enqueue_on_commit(email_notification, notification.pk)
    return notification


def do_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark some (or all) of ``user``'s unread notifications read; returns how many changed."""
    queryset = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())


def do_set_email_preferences(*, user: User, preferences: dict[str, bool]) -> None:
    valid = {kind: bool(value) for kind, value in preferences.items() if kind in NotificationKind.values}
    user.email_notifications = {**user.email_notifications, **valid}
    user.save(update_fields=["email_notifications"])
