"""The report filters: a date range (a preset or two dates), a grouping, a time zone, a format.

Query strings are untrusted: every value is checked here and a bad one becomes a message on its
field, never an exception further down.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from relaydesk.reports.queries import DIMENSIONS

# Far enough back for imported history, far enough ahead that "the day after" always exists.
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(9998, 12, 31)
DEFAULT_GROUP = "team"


class Preset(models.TextChoices):
    LAST_7_DAYS = "last_7_days", _("Last 7 days")
    LAST_30_DAYS = "last_30_days", _("Last 30 days")
    THIS_MONTH = "this_month", _("This month")


DEFAULT_PRESET = Preset.LAST_30_DAYS


class ReportFormat(models.TextChoices):
    HTML = "html", _("Web page")
    CSV = "csv", _("CSV")


# Files in the zone database that are not places: the host's own setting and a placeholder.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (read once: the listing walks the disk)."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_ZONES))


def preset_dates(preset: str, today: date) -> tuple[date, date]:
    """The first and last day (both included) of ``preset`` for someone whose today is ``today``."""
    if preset == Preset.LAST_7_DAYS:
        return today - timedelta(days=6), today
    if preset == Preset.THIS_MONTH:
        return today.replace(day=1), today
    return today - timedelta(days=29), today


@dataclass(frozen=True)
class ReportPeriod:
    """Days ``first``…``last`` (both included) in ``zone``: the instants ``[start, end)``."""

    first: date
    last: date
    zone: zoneinfo.ZoneInfo
    preset: str  # a Preset value, or "" for dates typed in

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=self.zone)


class AttainmentForm(forms.Form):
    """``range`` (a preset) or ``from`` + ``to`` (dates, both included); ``group``; ``tz``; ``format``."""

    range = forms.CharField(required=False)
    group = forms.CharField(required=False)
    tz = forms.CharField(required=False)
    format = forms.CharField(required=False)

    def __init__(self, data: dict[str, str], *, default_zone: str, now: datetime) -> None:
        super().__init__(data)
        # "from" is a Python keyword, so these two are added by name.
        self.fields["from"] = forms.DateField(
            required=False,
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        )
        self.fields["to"] = forms.DateField(
            required=False,
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        )
        self.default_zone = default_zone if default_zone in time_zone_names() else "UTC"
        self.now = now

    def clean_group(self) -> str:
        value = self.cleaned_data["group"] or DEFAULT_GROUP
        if value not in DIMENSIONS:
            raise forms.ValidationError(_("Group by policy, channel, priority, team or agent."))
        return value

    def clean_tz(self) -> str:
        value = self.cleaned_data["tz"] or self.default_zone
        if value not in time_zone_names():
            raise forms.ValidationError(_("Choose a time zone from the list, such as Europe/Berlin."))
        return value

    def clean_range(self) -> str:
        value = self.cleaned_data["range"]
        if value and value not in Preset.values:
            raise forms.ValidationError(_("Choose last 7 days, last 30 days or this month."))
        return value

    def clean_format(self) -> str:
        value = self.cleaned_data["format"] or ReportFormat.HTML
        if value not in ReportFormat.values:
            raise forms.ValidationError(_("The report can be shown as a web page or downloaded as CSV."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        first, last = data.get("from"), data.get("to")
        for name, day in (("from", first), ("to", last)):
            if day is not None and not MIN_DATE <= day <= MAX_DATE:
                self.add_error(name, _("Choose a date between 1970 and 9998."))
        if self.errors:
            return data
        zone = zoneinfo.ZoneInfo(data["tz"])
        if first is None and last is None:
            preset = data["range"] or DEFAULT_PRESET
            first, last = preset_dates(preset, self.now.astimezone(zone).date())
        elif first is None or last is None:
            raise forms.ValidationError(_("Give both a start and an end date, or choose a preset."))
        else:
            preset = ""
            if first > last:
                raise forms.ValidationError(
                    _("The start date (%(first)s) is after the end date (%(last)s)."),
                    params={"first": first.isoformat(), "last": last.isoformat()},
                )
        data["period"] = ReportPeriod(first=first, last=last, zone=zone, preset=preset)
        return data
