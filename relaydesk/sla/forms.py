"""Forms for the SLA screens: calendars, the SLA table, its tester and the service vision.

Forms only turn what people type into plain values (so garbage gets a field error, never a
500): "09:00-12:00, 13:00-17:00" into pairs of strings, "1h30m" into 90 minutes, one date per
line into a list. Whether those values make a calendar or a policy is decided by the model and
the engine, through ``relaydesk.sla.admin_actions``, whose errors come back to the fields with
``add_errors``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.forms import ListField, TimeZoneField
from relaydesk.accounts.models import Team
from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import parse_id
from relaydesk.customers.models import Tier
from relaydesk.sla.admin_actions import FieldErrors, weekday_field
from relaydesk.sla.models import PAUSABLE_STATUSES, BusinessCalendarConfig, EscalationAction, SLAPolicy
from relaydesk.tickets.models import Channel, Priority, Status

MAX_HOURS_TEXT = 200  # one weekday's intervals; a dozen intervals fit comfortably
MAX_DATES_TEXT = 20_000  # a few hundred holidays with labels
WHOLE_DAY_WORDS = frozenset({"24h", "24 h", "24/7", "24", "all day", "whole day"})
CLOSED_WORDS = frozenset({"", "closed", "-", "–", "—"})
_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|\bto\b)\s*", re.IGNORECASE)
_HOUR_ONLY = re.compile(r"^\d{1,2}$")
_ONE_DIGIT_HOUR = re.compile(r"^\d:\d{2}$")
_DURATION = re.compile(
    r"^(?:(?P<d>\d{1,4})\s*d(?:ays?)?)?\s*"
    r"(?:(?P<h>\d{1,6})\s*h(?:ours?|rs?)?)?\s*"
    r"(?:(?P<m>\d{1,7})\s*m(?:in(?:utes?|s)?)?)?$"
)


def add_errors(form: forms.Form, error: RelaydeskError) -> None:
    """Show an action's error(s) next to their fields, or at the top of the form."""
    problems = error.errors if isinstance(error, FieldErrors) else {error.field: [error.message]}
    for field, messages in problems.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


# --- calendars ----------------------------------------------------------------------------


def _clock_time(text: str, *, is_end: bool) -> str:
    """Tidy a typed time: "9" → "09:00", "9:30" → "09:30", an end of "24:00" → "00:00" (midnight).

    Anything else is passed on untouched for the model to accept or refuse with its own message.
    """
    text = text.strip()
    if _HOUR_ONLY.match(text):
        text = f"{int(text):02d}:00"
    elif _ONE_DIGIT_HOUR.match(text):
        text = f"0{text}"
    if is_end and text in ("24:00", "24:00:00"):
        return "00:00"
    return text


def parse_intervals(text: str) -> list[list[str]]:
    """One weekday's opening hours: ``"09:00-12:00, 13:00-17:00"`` → ``[["09:00", "12:00"], …]``.

    Empty (or "closed") is a closed day; "24h" or "00:00-00:00" is the whole day; an end at or
    before its start runs overnight ("22:00-06:00").
    """
    clean = " ".join((text or "").split())
    if clean.lower() in CLOSED_WORDS:
        return []
    if clean.lower() in WHOLE_DAY_WORDS:
        return [["00:00", "00:00"]]
    intervals = []
    for chunk in re.split(r"[,;]", clean):
        if not chunk.strip():
            continue
        parts = _RANGE_SPLIT.split(chunk.strip())
        if len(parts) != 2 or not all(parts):
            raise forms.ValidationError(
                _("Write each interval as start-end, e.g. 09:00-17:00 (“%(chunk)s” is not)."),
                params={"chunk": chunk.strip()[:40]},
            )
        intervals.append([_clock_time(parts[0], is_end=False), _clock_time(parts[1], is_end=True)])
    return intervals


def format_intervals(intervals: Any) -> str:
    """The inverse of ``parse_intervals``, for the edit form."""
    if not isinstance(intervals, list):
        return ""
    if intervals == [["00:00", "00:00"]]:
        return "24h"
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class IntervalsField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_HOURS_TEXT)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"placeholder": _("closed"), "autocomplete": "off", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[list[str]]:
        return parse_intervals(super().clean(value))

    def prepare_value(self, value: Any) -> Any:
        return format_intervals(value) if isinstance(value, list) else value


class LinesField(forms.CharField):
    """One value per line; anything after the first space on a line (a label) is ignored."""

    widget = forms.Textarea

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_DATES_TEXT)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return [line.split()[0] for line in text.splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value


class CalendarTeamsField(forms.ModelMultipleChoiceField):
    """Which teams use the calendar; a team already on another calendar says so (it moves)."""

    def __init__(self, *, calendar: BusinessCalendarConfig | None, **kwargs: Any) -> None:
        self.calendar_id = calendar.pk if calendar else None
        queryset = Team.objects.select_related("calendar").order_by("name")
        keep = Q(is_active=True)
        if calendar is not None:
            keep |= Q(calendar=calendar)  # an inactive team still on it stays visible
        super().__init__(
            queryset=queryset.filter(keep),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def clean(self, value: Any) -> Any:
        # A number too big for the database would crash the ``pk__in`` query instead of failing.
        for item in value if isinstance(value, list | tuple) else []:
            if parse_id(item) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(item)[:20]},
                )
        return super().clean(value)

    def label_from_instance(self, obj: Team) -> str:
        if obj.calendar_id is not None and obj.calendar_id != self.calendar_id and obj.calendar is not None:
            return _("%(team)s (now on %(calendar)s)") % {"team": obj.name, "calendar": obj.calendar.name}
        return obj.name


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. “New York office”"))
    time_zone = TimeZoneField(
        label=_("Time zone"), initial="UTC", help_text=_("Opening hours are read in this zone.")
    )
    holidays = LinesField(
        label=_("Holidays"),
        help_text=_(
            "One date per line, YYYY-MM-DD; a label after a space is fine, e.g. 2025-12-24 Christmas Eve."
        ),
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "placeholder": "2025-12-24"}),
    )
    yearly_holidays = LinesField(
        label=_("Every year"),
        help_text=_("Closed on the same day each year: one MM-DD per line, e.g. 12-25."),
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "placeholder": "01-01"}),
    )

    def __init__(self, *args: Any, calendar: BusinessCalendarConfig | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in range(7):
            self.fields[weekday_field(day)] = IntervalsField(label=WEEKDAYS[day])
        self.fields["teams"] = CalendarTeamsField(
            calendar=calendar,
            label=_("Teams using this calendar"),
            help_text=_("Their tickets' business-hour targets run on these hours. A team has one calendar."),
        )
        self.order_fields(["name", "time_zone", *self.weekday_fields, "holidays", "yearly_holidays", "teams"])

    @property
    def weekday_fields(self) -> list[str]:
        return [weekday_field(day) for day in range(7)]

    def weekday_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.weekday_fields]

    def calendar_values(self) -> dict[str, Any]:
        """The cleaned values as ``admin_actions`` takes them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "weekly_hours": {day: data[weekday_field(day)] for day in range(7)},
            "holidays": data["holidays"],
            "yearly_holidays": data["yearly_holidays"],
        }


def calendar_initial(calendar: BusinessCalendarConfig) -> dict[str, Any]:
    weekly = calendar.weekly_hours if isinstance(calendar.weekly_hours, dict) else {}
    initial: dict[str, Any] = {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holidays": list(calendar.holidays or []),
        "yearly_holidays": list(calendar.yearly_holidays or []),
        "teams": list(calendar.teams.values_list("pk", flat=True)),
    }
    for day in range(7):
        initial[weekday_field(day)] = weekly.get(str(day), [])
    return initial


# --- policies -----------------------------------------------------------------------------


def parse_duration(text: str) -> int | None:
    """``"30m"``, ``"4h"``, ``"2d"``, ``"1h30m"`` or plain minutes → minutes; empty → None.

    A day is 24 hours. Raises ``forms.ValidationError`` for anything else.
    """
    clean = " ".join((text or "").split()).lower()
    if not clean:
        return None
    if clean.isascii() and clean.isdigit():
        if len(clean) > 9:
            raise forms.ValidationError(_("That is far too long for a target."))
        return int(clean)
    match = _DURATION.match(clean) if clean.isascii() else None
    if match is None or not any(match.groupdict().values()):
        raise forms.ValidationError(
            _("Write a duration such as 30m, 4h, 2d or 1h30m, or a number of minutes."), code="invalid"
        )
    parts = {key: int(value or 0) for key, value in match.groupdict().items()}
    return parts["d"] * 24 * 60 + parts["h"] * 60 + parts["m"]


def duration_input(minutes: int | None) -> str:
    """Minutes in the short form people type: 90 → "1h30m", 2880 → "2d"."""
    if minutes is None:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if mins or not parts:
        parts.append(f"{mins}m")
    return "".join(parts)


class DurationField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"placeholder": _("no target"), "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:
        return parse_duration(super().clean(value))

    def prepare_value(self, value: Any) -> Any:
        return duration_input(value) if isinstance(value, int) else value


def _choices_with_any(choices: Any, any_label: Any) -> list[tuple[Any, Any]]:
    return [("", any_label), *choices]


def _priority_or_none(value: str) -> int | None:
    return int(value) if value else None


class PolicyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("e.g. “P1 urgent outage, any channel”")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_choices_with_any(Channel.choices, _("Any channel"))
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=_priority_or_none,
        empty_value=None,
        choices=_choices_with_any(Priority.choices, _("Any priority")),
    )
    organization_tier = forms.ChoiceField(
        label=_("Customer tier"), required=False, choices=_choices_with_any(Tier.choices, _("Any tier"))
    )
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.order_by("name"), empty_label=_("Any team")
    )
    first_response_minutes = DurationField(label=_("First response"))
    next_response_minutes = DurationField(label=_("Next response"))
    resolution_minutes = DurationField(label=_("Resolution"))
    business_hours = forms.TypedChoiceField(
        label=_("Targets count"),
        coerce=lambda value: value == "business",
        choices=[
            ("business", _("Business hours only")),
            ("calendar", _("Calendar time, around the clock (24/7)")),
        ],
        initial="business",
        widget=forms.RadioSelect,
    )
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"),
        required=False,
        queryset=BusinessCalendarConfig.objects.order_by("name"),
        empty_label=_("The ticket's team calendar"),
        help_text=_("Used only for business hours. A team without a calendar runs 24/7."),
    )
    warning_percent = forms.IntegerField(
        label=_("Warn at (% of the target)"),
        min_value=1,
        max_value=100,
        initial=80,
        help_text=_("The warning actions run when this share of a target is used."),
    )
    pause_statuses = forms.MultipleChoiceField(
        label=_("Clocks pause while the ticket is"),
        required=False,
        choices=[(status.value, status.label) for status in PAUSABLE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
        initial=[Status.PENDING_CUSTOMER],
    )
    warning_actions = forms.MultipleChoiceField(
        label=_("At the warning"),
        required=False,
        choices=EscalationAction.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[EscalationAction.NOTIFY_ASSIGNEE],
    )
    breach_actions = forms.MultipleChoiceField(
        label=_("At the breach"),
        required=False,
        choices=EscalationAction.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[EscalationAction.NOTIFY_ASSIGNEE, EscalationAction.NOTIFY_SUPERVISORS],
    )


def policy_initial(policy: SLAPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "is_active": policy.is_active,
        "channel": policy.channel,
        "priority": "" if policy.priority is None else policy.priority,
        "organization_tier": policy.organization_tier,
        "team": policy.team_id,
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "business_hours": "business" if policy.business_hours else "calendar",
        "calendar": policy.calendar_id,
        "warning_percent": policy.warning_percent,
        "pause_statuses": list(policy.pause_statuses or []),
        "warning_actions": list(policy.warning_actions or []),
        "breach_actions": list(policy.breach_actions or []),
    }


class PolicyTestForm(forms.Form):
    """The "which row applies?" tester: a ticket's channel, priority, customer tier and team."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.EMAIL)
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=Priority.choices, initial=Priority.P3
    )
    tier = forms.ChoiceField(label=_("Customer tier"), choices=Tier.choices, initial=Tier.STANDARD)
    team = forms.ModelChoiceField(
        label=_("Team"),
        required=False,
        queryset=Team.objects.select_related("calendar").order_by("name"),
        empty_label=_("No team"),
    )


# --- service vision -----------------------------------------------------------------------


class VisionForm(forms.Form):
    statement = forms.CharField(
        label=_("Service vision"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What every customer should feel after talking to us, in a few sentences."),
    )
    brand_tone = forms.CharField(
        label=_("Brand tone"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("How we sound: e.g. warm, plain words, first names, no jargon, one apology not three."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels we offer"),
        required=False,
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = ListField(
        label=_("Languages we support"),
        required=False,
        max_length=200,
        help_text=_("ISO codes separated by commas, e.g. en, de, pt-br."),
    )
    coverage = forms.CharField(
        label=_("Hours and time zones"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "e.g. “Email and chat 24/5 from Sydney, Berlin and New York; phone 08:00–20:00 New York.”"
        ),
    )
