"""Template helpers for the workspace: compact ages, local times, priority classes."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def short_age(value: datetime | None) -> str:
    """ "3m", "5h", "2d" since ``value``: what a queue row needs at a glance."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 86400 * 60:
        return f"{seconds // 86400}d"
    return f"{seconds // (86400 * 30)}mo"


@register.filter
def local_time_in(zone: str) -> str:
    """The current time in ``zone`` (e.g. the customer's), as "14:05 (Tue)"."""
    try:
        now = timezone.now().astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    return now.strftime("%H:%M (%a)")


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters replaced (None removes them)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else ""
