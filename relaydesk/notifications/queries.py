from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from relaydesk.accounts.models import User
from relaydesk.notifications.models import Notification


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass
class NotificationPage:
    notifications: list[Notification]
    # The id to pass as ``before_id`` for the next (older) page, if there is one.
    next_before_id: int | None
    # Whether ``before_id`` pointed at one of the user's notifications (a later page).
    is_later_page: bool


def notification_page(
    user: User, *, unread_only: bool = False, before_id: int | None = None, limit: int = 30
) -> NotificationPage:
    """``user``'s notifications, newest first, keyset-paginated by (created_at, id)."""
    queryset = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    anchor = (
        Notification.objects.filter(recipient=user, pk=before_id).values_list("created_at", "pk").first()
        if before_id is not None
        else None
    )
    if anchor is not None:
        created_at, pk = anchor
        queryset = queryset.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        notifications=rows,
        next_before_id=rows[-1].pk if has_more else None,
        is_later_page=anchor is not None,
    )
