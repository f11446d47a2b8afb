from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _nav(user: Any) -> dict[str, Any]:
    from relaydesk.accounts.models import Team
    from relaydesk.tickets.models import SavedView

    teams = (
        Team.objects.filter(is_active=True) if user.sees_all_tickets else user.teams.filter(is_active=True)
    )
    # The open-ticket counts are not here: they are fetched after the page (tickets:nav_counts).
    return {
        "teams": list(teams.only("id", "name")),
        "saved_views": list(SavedView.objects.filter(owner=user).only("id", "name")[:20]),
    }


def workspace(request: HttpRequest) -> dict[str, Any]:
    """What the workspace chrome shows: the bell count and the navigation, computed only if rendered."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from relaydesk.notifications.queries import unread_count

    return {
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
        "workspace_nav": SimpleLazyObject(lambda: _nav(user)),
    }
