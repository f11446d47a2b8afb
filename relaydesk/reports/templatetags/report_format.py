"""How report figures read: durations as "1 h 20 m", shares as "91.6 %" (never rounded up to 100)."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def human_duration(value: object) -> str:
    """ "45 s", "12 m", "1 h 20 m", "3 d 4 h"; truncated, never rounded up; "—" for no value.

    Hours run up to 48 before days appear, so a business-time figure of 40 h reads as 40 h.
    Anything that is not a duration (a template's missing value is "") reads "—".
    """
    if not isinstance(value, timedelta):
        return "—"
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d m") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d m") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}


def per_mille(met: int, total: int) -> int | None:
    """Met share in tenths of a percent, truncated: 99.96 % is 999, so nothing reads 100 % unless it is."""
    return None if total <= 0 else 1000 * met // total


def percent_text(met: int, total: int) -> str:
    """ "91.6 %", "100 %", "0 %"; "—" when nothing was counted."""
    tenths = per_mille(met, total)
    if tenths is None:
        return "—"
    whole, tenth = divmod(tenths, 10)
    return f"{whole} %" if tenth == 0 else f"{whole}.{tenth} %"


@register.filter
def duration(value: object) -> str:
    return human_duration(value)


@register.simple_tag
def met_share(met: int, total: int) -> str:
    return percent_text(met, total)
