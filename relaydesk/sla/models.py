"""Business calendars and SLA policies, as admins define them.

Stored in a form people can edit (weekly hours as "HH:MM" strings per weekday, dates as
ISO strings); ``BusinessCalendarConfig.to_engine()`` turns a row into the pure
``engine.BusinessCalendar`` that does the arithmetic, and ``clean()`` refuses anything the
engine would refuse, with the engine's message.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import validate_time_zone
from relaydesk.customers.models import Tier
from relaydesk.sla.clocks import ClockKind
from relaydesk.sla.engine import BusinessCalendar
from relaydesk.tickets.models import Channel, Priority, Status


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


class EscalationAction(models.TextChoices):
    NOTIFY_ASSIGNEE = "notify_assignee", _("Notify the assignee")
    NOTIFY_SUPERVISORS = "notify_supervisors", _("Notify the team's supervisors")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
    ESCALATE_LEVEL = "escalate_level", _("Move to the next level's team (L1 → L2 → specialist)")


def default_warning_actions() -> list[str]:
    return [EscalationAction.NOTIFY_ASSIGNEE]


def default_breach_actions() -> list[str]:
    return [EscalationAction.NOTIFY_ASSIGNEE, EscalationAction.NOTIFY_SUPERVISORS]


def default_pause_statuses() -> list[str]:
    return [Status.PENDING_CUSTOMER]


# Statuses an admin may choose to pause clocks in (resolved and closed always stop them).
PAUSABLE_STATUSES = (
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.PENDING_CUSTOMER,
    Status.PENDING_INTERNAL,
)


def validate_actions(value: Any) -> None:
    if not isinstance(value, list) or any(item not in EscalationAction.values for item in value):
        raise ValidationError(_("Choose escalation actions from the list."))


def validate_pause_statuses(value: Any) -> None:
    if not isinstance(value, list) or any(item not in PAUSABLE_STATUSES for item in value):
        raise ValidationError(_("Clocks can pause only in open statuses."))


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
    warning_actions = models.JSONField(
        _("at the warning"), default=default_warning_actions, blank=True, validators=[validate_actions]
    )
    breach_actions = models.JSONField(
        _("at the breach"), default=default_breach_actions, blank=True, validators=[validate_actions]
    )
    pause_statuses = models.JSONField(
        _("clocks pause while"),
        default=default_pause_statuses,
        blank=True,
        validators=[validate_pause_statuses],
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


class SLAClock(models.Model):
    """One SLA clock of a ticket, as ``sla.clocks.replay`` computed it, plus what the scanner did.

    The replay fields are rewritten whenever the ticket changes; ``warned_at``/``breached_at`` are
    written only by the breach scanner (the escalation already ran) and survive every rewrite.
    ``next_check_at`` is the next instant the scanner must look at this clock, or null.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SLAPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(
        max_length=20, choices=[(k.value, k.name.replace("_", " ").capitalize()) for k in ClockKind]
    )
    started_at = models.DateTimeField()
    target = models.DurationField()
    elapsed = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    met = models.BooleanField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "started_at"], name="sla_clock_unique_start")
        ]
        indexes = [
            # The scanner's work list: clocks with a threshold still ahead of them, soonest first.
            models.Index(
                fields=["next_check_at"],
                name="sla_clock_next_check",
                condition=models.Q(next_check_at__isnull=False),
            ),
            # Attainment reports by when clocks stopped.
            models.Index(fields=["kind", "stopped_at"], name="sla_clock_stopped"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of #{self.ticket_id}"


class ServiceVision(models.Model):
    """The center's promise in words, shown to every agent with the SLA table (one row)."""

    statement = models.TextField(_("service vision"), blank=True)
    brand_tone = models.TextField(_("brand tone"), blank=True)
    channels = models.JSONField(_("channels offered"), default=list, blank=True)
    languages = models.JSONField(_("languages supported"), default=list, blank=True)
    coverage = models.TextField(_("hours and time zones"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("service vision")

    def __str__(self) -> str:
        return "Service vision"


class SLATableStamp(models.Model):
    """One row whose random value changes with every change to the SLA table (see ``sla.table``)."""

    stamp = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("SLA table stamp")

    def __str__(self) -> str:
        return self.stamp
