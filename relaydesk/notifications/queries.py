from __future__ import annotations

from django.db.models import QuerySet

from relaydesk.accounts.models import User
from relaydesk.notifications.models import Notification


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def recent_notifications(user: User, limit: int = 30) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("actor")[:limit]
