"""Business calendars and SLA policies, as admins define them.

Stored in a form people can edit (weekly hours as "HH:MM" strings per weekday, dates as
ISO strings); ``BusinessCalendarConfig.to_engine()`` turns a row into the pure
``engine.BusinessCalendar`` that does the arithmetic, and ``clean()`` refuses anything the
engine would refuse, with the engine's message.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import validate_time_zone
from relaydesk.customers.models import Tier
from relaydesk.sla.engine import BusinessCalendar
from relaydesk.tickets.models import Channel, Priority


def _parse_time(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("%(value)s is not a time such as 09:00."), params={"value": value}) from None


def calendar_from_config(
    *, time_zone: str, weekly_hours: Any, holidays: Any, yearly_holidays: Any
) -> BusinessCalendar:
    """The engine calendar for stored settings; ValidationError naming the problem otherwise."""
    if not isinstance(weekly_hours, dict):
        raise ValidationError({"weekly_hours": _("Weekly hours must map weekdays to intervals.")})
    try:
        weekly = {
            int(weekday): tuple((_parse_time(start), _parse_time(end)) for start, end in intervals)
            for weekday, intervals in weekly_hours.items()
        }
        single = frozenset(date.fromisoformat(str(day)) for day in holidays or [])
        yearly = frozenset(tuple(int(part) for part in str(day).split("-")) for day in yearly_holidays or [])
        if any(len(pair) != 2 for pair in yearly):
            raise ValueError("yearly holidays are written MM-DD")
        return BusinessCalendar(time_zone, weekly, single, frozenset((m, d) for m, d in yearly))
    except ValidationError:
        raise
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc)) from exc


class BusinessCalendarConfig(models.Model):
    """A region's opening hours: the clock SLA targets in business time run on."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    # {"0": [["09:00", "17:00"]], ...}: weekday 0 = Monday; an end at or before its start runs
    # overnight; ["00:00", "00:00"] is the whole day; a missing weekday is closed.
    weekly_hours = models.JSONField(_("weekly hours"), default=dict)
    holidays = models.JSONField(_("holidays"), default=list, blank=True, help_text=_("Dates, YYYY-MM-DD"))
    yearly_holidays = models.JSONField(
        _("yearly holidays"), default=list, blank=True, help_text=_("Every year, MM-DD")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.to_engine()

    def to_engine(self) -> BusinessCalendar:
        return calendar_from_config(
            time_zone=self.time_zone,
            weekly_hours=self.weekly_hours,
            holidays=self.holidays,
            yearly_holidays=self.yearly_holidays,
        )


class SLAPolicy(models.Model):
    """One row of the SLA table. Rows are tried in ``position`` order; the first match applies.

    An empty condition (no channel, no priority, …) matches anything.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    organization_tier = models.CharField(
        _("organization tier"), max_length=20, choices=Tier.choices, blank=True
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, null=True, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response target (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"), null=True, blank=True)
    business_hours = models.BooleanField(
        _("in business hours"), default=True, help_text=_("Off: targets run on the calendar clock, 24/7")
    )
    calendar = models.ForeignKey(
        BusinessCalendarConfig,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty: the ticket team's calendar"),
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (% of target)"),
        default=80,
        help_text=_("Escalation rules run at this share of the target"),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=100),
                name="sla_policy_warning_percent_range",
            )
        ]

    def __str__(self) -> str:
        return self.name
