from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The unread notification count for the header bell (one cheap indexed count)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from relaydesk.notifications.queries import unread_count

    return {"unread_notifications": unread_count(user)}
