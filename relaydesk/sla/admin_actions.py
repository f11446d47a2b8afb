"""Every change to business calendars, the SLA table and the service vision goes through here.

``check_*`` validates and checks that the acting user is an admin, then calls ``do_*``, which
writes. Arguments after the subject are keyword-only.

Whether a calendar or a policy is valid is the model's and the engine's call
(``sla.models.calendar_from_config`` builds the engine's ``BusinessCalendar``;
``SLAPolicy.full_clean`` checks choices and escalation lists): their messages are what the
admin sees, attached to the field they concern. ``FieldErrors`` carries every problem of a
form at once, so an admin fixing Monday's hours also learns that Friday's overlap.

A calendar, a team's calendar or a row of the table decides when open tickets are due, so
each write enqueues ``rebuild_tasks.rebuild_open_ticket_clocks`` once the transaction commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils.translation import gettext as _

from relaydesk.accounts.actions import clean_languages
from relaydesk.accounts.models import Team, User, validate_time_zone
from relaydesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from relaydesk.core.jobs import enqueue_on_commit
from relaydesk.core.parsing import MAX_ID, without_nul
from relaydesk.sla import table as sla_table
from relaydesk.sla.models import BusinessCalendarConfig, ServiceVision, SLAPolicy, calendar_from_config
from relaydesk.tickets.models import Channel

MAX_NAME_LENGTH = 100
MAX_INTERVALS_PER_DAY = 12
MAX_HOLIDAYS = 366 * 3  # a few years of dates; old ones can be removed
MAX_YEARLY_HOLIDAYS = 100
MAX_TARGET_MINUTES = 366 * 24 * 60  # a year: anything longer is a typo, not a promise
MAX_ERRORS_PER_FIELD = 5
MAX_VISION_TEXT = 10_000
MAX_SHORT_TEXT = 5_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAY = re.compile(r"^\d{1,2}-\d{1,2}$")
# The engine names weekdays in English in its messages ("… Monday 09:00–12:00 and Monday …").
_ENGINE_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class FieldErrors(ValidationFailed):
    """Several problems at once, by form field (None: the form as a whole)."""

    def __init__(self, errors: Mapping[str | None, list[str]]) -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)
        self.errors = dict(errors)


def weekday_field(day: int) -> str:
    """The form field (and error key) of a weekday's opening hours, 0 = Monday."""
    return f"hours_{day}"


def _require_admin(user: User) -> None:
    if not user.is_active or not user.is_admin:
        raise PermissionDenied(_("Only admins can change calendars, the SLA table and the service vision."))


def _sentence(message: str) -> str:
    """The engine speaks in lower-case fragments; a form shows sentences."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _add(errors: dict[str | None, list[str]], field: str | None, message: str) -> None:
    bucket = errors.setdefault(field, [])
    if len(bucket) < MAX_ERRORS_PER_FIELD:
        bucket.append(message)


def _clean_name(value: str, errors: dict[str | None, list[str]], *, what: str) -> str:
    name = " ".join(without_nul(value).split())
    if not name:
        _add(errors, "name", _("Give the %(what)s a name.") % {"what": what})
    elif len(name) > MAX_NAME_LENGTH:
        _add(errors, "name", _("Keep the name under %(count)s characters.") % {"count": MAX_NAME_LENGTH})
    return name


def _rebuild_open_tickets_after_commit() -> None:
    from relaydesk.sla.rebuild_tasks import rebuild_open_ticket_clocks

    sla_table.changed()  # some writes here use update(), which sends no signal
    enqueue_on_commit(rebuild_open_ticket_clocks)


# --- business calendars -------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarValues:
    """A calendar's settings as stored: weekday keys "0"…"6", times and dates as strings."""

    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    holidays: list[str]
    yearly_holidays: list[str]


def _weekday_named_last(message: str) -> int | None:
    """The weekday an engine message names last: the interval that runs into an earlier one."""
    found = [(message.rfind(name), day) for day, name in enumerate(_ENGINE_WEEKDAYS) if name in message]
    return max(found)[1] if found else None


def _engine_check(**config: Any) -> list[str]:
    """The model's (and so the engine's) verdict on calendar settings: [] or its messages."""
    settings = {"time_zone": "UTC", "weekly_hours": {}, "holidays": [], "yearly_holidays": [], **config}
    try:
        calendar_from_config(**settings)
    except ValidationError as exc:
        # The model's own messages start with what was typed ("25:00 is not a time …"): kept as
        # they are. The engine's are lower-case fragments ("overlapping opening intervals: …").
        return [
            str(error.message % error.params) if error.params else _sentence(str(error.message))
            for error in exc.error_list
        ]
    return []


def _clean_weekly_hours(
    weekly_hours: Mapping[int, Sequence[Sequence[str]]], errors: dict[str | None, list[str]]
) -> dict[str, list[list[str]]]:
    weekly: dict[str, list[list[str]]] = {}
    for day in range(7):
        intervals = [
            [without_nul(str(start)), without_nul(str(end))] for start, end in weekly_hours.get(day, ())
        ]
        if not intervals:
            continue
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            _add(
                errors,
                weekday_field(day),
                _("At most %(count)s intervals a day.") % {"count": MAX_INTERVALS_PER_DAY},
            )
            continue
        # Each day alone first, so a bad time or an overlap is shown next to its own day.
        problems = _engine_check(weekly_hours={str(day): intervals})
        for message in problems:
            _add(errors, weekday_field(day), message)
        if not problems:
            weekly[str(day)] = intervals
    if len(weekly) > 1 and not any(weekday_field(day) in errors for day in range(7)):
        # Then the week: an overnight interval may run into the next morning's hours.
        for message in _engine_check(weekly_hours=weekly):
            named = _weekday_named_last(message)
            _add(errors, weekday_field(named) if named is not None else None, message)
    return weekly


def _clean_holidays(lines: Iterable[str], errors: dict[str | None, list[str]]) -> list[str]:
    days: set[str] = set()
    lines = [without_nul(line).strip() for line in lines if line.strip()]
    if len(lines) > MAX_HOLIDAYS:
        _add(errors, "holidays", _("List at most %(count)s holidays.") % {"count": MAX_HOLIDAYS})
        return []
    for line in lines:
        if not _DATE.match(line):
            _add(
                errors,
                "holidays",
                _("“%(line)s” is not a date: write YYYY-MM-DD, e.g. 2025-12-24.") % {"line": line[:40]},
            )
            continue
        problems = _engine_check(holidays=[line])
        for message in problems:
            _add(errors, "holidays", f"{line}: {message}")
        if not problems:
            days.add(date.fromisoformat(line).isoformat())
    return sorted(days)


def _clean_yearly_holidays(lines: Iterable[str], errors: dict[str | None, list[str]]) -> list[str]:
    days: set[str] = set()
    lines = [without_nul(line).strip() for line in lines if line.strip()]
    if len(lines) > MAX_YEARLY_HOLIDAYS:
        _add(
            errors,
            "yearly_holidays",
            _("List at most %(count)s yearly holidays.") % {"count": MAX_YEARLY_HOLIDAYS},
        )
        return []
    for line in lines:
        if not _MONTH_DAY.match(line):
            _add(
                errors,
                "yearly_holidays",
                _("“%(line)s” is not a day of the year: write MM-DD, e.g. 12-25.") % {"line": line[:40]},
            )
            continue
        problems = _engine_check(yearly_holidays=[line])
        for message in problems:
            _add(errors, "yearly_holidays", f"{line}: {message}")
        if not problems:
            month, day = (int(part) for part in line.split("-"))
            days.add(f"{month:02d}-{day:02d}")
    return sorted(days)


def clean_calendar(
    *,
    name: str,
    time_zone: str,
    weekly_hours: Mapping[int, Sequence[Sequence[str]]],
    holidays: Iterable[str],
    yearly_holidays: Iterable[str],
) -> CalendarValues:
    """Settings the engine accepts, tidied for storage; ``FieldErrors`` with every problem otherwise.

    ``weekly_hours`` maps a weekday (0 = Monday) to ``(start, end)`` pairs such as ``("09:00",
    "17:00")``; a missing or empty weekday is closed.
    """
    errors: dict[str | None, list[str]] = {}
    clean_name = _clean_name(name, errors, what=_("calendar"))
    zone = without_nul(time_zone).strip()
    try:
        validate_time_zone(zone)
    except ValidationError as exc:
        for message in exc.messages:
            _add(errors, "time_zone", message)
    values = CalendarValues(
        name=clean_name,
        time_zone=zone,
        weekly_hours=_clean_weekly_hours(weekly_hours, errors),
        holidays=_clean_holidays(holidays, errors),
        yearly_holidays=_clean_yearly_holidays(yearly_holidays, errors),
    )
    if not errors:
        # The whole row, once more, exactly as the model will check it.
        for message in _engine_check(
            time_zone=values.time_zone,
            weekly_hours=values.weekly_hours,
            holidays=values.holidays,
            yearly_holidays=values.yearly_holidays,
        ):
            _add(errors, None, message)
    if errors:
        raise FieldErrors(errors)
    return values


def _check_calendar_name_free(name: str, *, exclude_id: int | None = None) -> None:
    clash = BusinessCalendarConfig.objects.filter(name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationFailed(
            _("There is already a calendar called %(name)s.") % {"name": name}, field="name"
        )


def do_save_calendar(
    calendar: BusinessCalendarConfig, *, values: CalendarValues, teams: Iterable[Team]
) -> BusinessCalendarConfig:
    """Write ``calendar`` (new, or locked by the caller) and make exactly ``teams`` use it."""
    calendar.name = values.name
    calendar.time_zone = values.time_zone
    calendar.weekly_hours = values.weekly_hours
    calendar.holidays = values.holidays
    calendar.yearly_holidays = values.yearly_holidays
    try:
        with transaction.atomic():
            calendar.save()
    except IntegrityError:
        raise ValidationFailed(
            _("There is already a calendar called %(name)s.") % {"name": values.name}, field="name"
        ) from None
    team_ids = sorted({team.pk for team in teams})
    Team.objects.filter(calendar=calendar).exclude(pk__in=team_ids).update(calendar=None)
    Team.objects.filter(pk__in=team_ids).exclude(calendar=calendar).update(calendar=calendar)
    _rebuild_open_tickets_after_commit()
    return calendar


def check_create_calendar(
    admin: User,
    *,
    name: str,
    time_zone: str,
    weekly_hours: Mapping[int, Sequence[Sequence[str]]],
    holidays: Iterable[str],
    yearly_holidays: Iterable[str],
    teams: Iterable[Team] = (),
) -> BusinessCalendarConfig:
    _require_admin(admin)
    values = clean_calendar(
        name=name,
        time_zone=time_zone,
        weekly_hours=weekly_hours,
        holidays=holidays,
        yearly_holidays=yearly_holidays,
    )
    with transaction.atomic():
        _check_calendar_name_free(values.name)
        return do_save_calendar(BusinessCalendarConfig(), values=values, teams=teams)


def _calendar_for_update(calendar_id: int) -> BusinessCalendarConfig:
    calendar = (
        BusinessCalendarConfig.objects.select_for_update().filter(pk=calendar_id).first()
        if 0 < calendar_id <= MAX_ID
        else None
    )
    if calendar is None:
        raise NotFound(_("That calendar does not exist."))
    return calendar


def check_update_calendar(
    admin: User,
    calendar_id: int,
    *,
    name: str,
    time_zone: str,
    weekly_hours: Mapping[int, Sequence[Sequence[str]]],
    holidays: Iterable[str],
    yearly_holidays: Iterable[str],
    teams: Iterable[Team],
) -> BusinessCalendarConfig:
    _require_admin(admin)
    values = clean_calendar(
        name=name,
        time_zone=time_zone,
        weekly_hours=weekly_hours,
        holidays=holidays,
        yearly_holidays=yearly_holidays,
    )
    with transaction.atomic():
        calendar = _calendar_for_update(calendar_id)
        _check_calendar_name_free(values.name, exclude_id=calendar.pk)
        return do_save_calendar(calendar, values=values, teams=teams)


def policies_using(calendar: BusinessCalendarConfig) -> list[str]:
    return list(
        SLAPolicy.objects.filter(calendar=calendar).order_by("position", "id").values_list("name", flat=True)
    )


def _in_use_error(calendar: BusinessCalendarConfig, policy_names: list[str]) -> Conflict:
    return Conflict(
        _(
            "%(name)s is still used by the SLA policy %(policies)s. Choose another calendar for "
            "that policy first (or leave its calendar empty), then delete this one."
        )
        % {"name": calendar.name, "policies": ", ".join(f"“{p}”" for p in policy_names)}
    )


def check_delete_calendar(admin: User, calendar_id: int) -> str:
    """Delete a calendar no policy uses; its teams are left without one. Returns its name.

    ``SLAPolicy.calendar`` is PROTECT: a policy's promise must not silently change clock.
    """
    _require_admin(admin)
    try:
        with transaction.atomic():
            calendar = _calendar_for_update(calendar_id)
            in_use = policies_using(calendar)
            if in_use:
                raise _in_use_error(calendar, in_use)
            name = calendar.name
            calendar.delete()
            _rebuild_open_tickets_after_commit()
    except (ProtectedError, IntegrityError):
        # A policy started using it between our check and the delete (PROTECT, or the FK at commit).
        raise Conflict(
            _("An SLA policy started using this calendar meanwhile, so it was not deleted.")
        ) from None
    return name


# --- the SLA table ------------------------------------------------------------------------

TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


@dataclass(frozen=True)
class PolicyValues:
    name: str
    is_active: bool
    channel: str
    priority: int | None
    organization_tier: str
    team: Team | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    calendar: BusinessCalendarConfig | None
    warning_percent: int
    pause_statuses: list[str]
    warning_actions: list[str]
    breach_actions: list[str]


def _fill_policy(policy: SLAPolicy, values: PolicyValues) -> None:
    for field in PolicyValues.__dataclass_fields__:
        setattr(policy, field, getattr(values, field))


def _validate_policy(policy: SLAPolicy, values: PolicyValues) -> SLAPolicy:
    """``policy`` filled with ``values`` if the model accepts them; ``FieldErrors`` otherwise."""
    errors: dict[str | None, list[str]] = {}
    name = _clean_name(values.name, errors, what=_("policy"))
    for field in TARGET_FIELDS:
        minutes = getattr(values, field)
        if minutes is not None and not 1 <= minutes <= MAX_TARGET_MINUTES:
            _add(errors, field, _("A target is between 1 minute and 366 days."))
    if not 1 <= values.warning_percent <= 100:
        _add(errors, "warning_percent", _("Warn somewhere between 1 % and 100 % of the target."))
    values = PolicyValues(
        **{
            **{field: getattr(values, field) for field in PolicyValues.__dataclass_fields__},
            "name": name,
            "pause_statuses": sorted(set(values.pause_statuses)),
            "warning_actions": list(dict.fromkeys(values.warning_actions)),
            "breach_actions": list(dict.fromkeys(values.breach_actions)),
        }
    )
    _fill_policy(policy, values)
    already_wrong = [field for field in errors if field]
    try:
        policy.full_clean(exclude=["position", "name", *already_wrong], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                _add(errors, None if field == "__all__" else field, message)
    if errors:
        raise FieldErrors(errors)
    return policy


def check_create_policy(admin: User, *, values: PolicyValues) -> SLAPolicy:
    """A new row at the end of the table (so it applies only where no row above matches)."""
    _require_admin(admin)
    policy = _validate_policy(SLAPolicy(), values)
    with transaction.atomic():
        last = SLAPolicy.objects.aggregate(last=Max("position"))["last"]
        policy.position = 0 if last is None else last + 1
        policy.save()
        _rebuild_open_tickets_after_commit()
    return policy


def _policy_for_update(policy_id: int) -> SLAPolicy:
    policy = (
        SLAPolicy.objects.select_for_update().filter(pk=policy_id).first()
        if 0 < policy_id <= MAX_ID
        else None
    )
    if policy is None:
        raise NotFound(_("That SLA policy does not exist."))
    return policy


def check_update_policy(admin: User, policy_id: int, *, values: PolicyValues) -> SLAPolicy:
    _require_admin(admin)
    with transaction.atomic():
        policy = _validate_policy(_policy_for_update(policy_id), values)
        policy.save()
        _rebuild_open_tickets_after_commit()
    return policy


def check_delete_policy(admin: User, policy_id: int) -> str:
    """Delete a row; tickets it applied to fall to the next matching row. Returns its name."""
    _require_admin(admin)
    with transaction.atomic():
        policy = _policy_for_update(policy_id)
        name = policy.name
        policy.delete()
        _rebuild_open_tickets_after_commit()
    return name


def check_move_policy(admin: User, policy_id: int, *, direction: str) -> bool:
    """Swap a row with the one above ("up") or below ("down"); False when it is already at that end.

    The whole table is locked and renumbered 0, 1, 2… so rows with equal positions (say, from an
    import) get a definite order the first time anyone moves one.
    """
    _require_admin(admin)
    if direction not in ("up", "down"):
        raise ValidationFailed(_("Move a row up or down."))
    with transaction.atomic():
        rows = list(SLAPolicy.objects.select_for_update().order_by("position", "id"))
        index = next((i for i, row in enumerate(rows) if row.pk == policy_id), None)
        if index is None:
            raise NotFound(_("That SLA policy does not exist."))
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(rows):
            return False
        rows[index], rows[other] = rows[other], rows[index]
        moved = []
        for position, row in enumerate(rows):
            if row.position != position:
                row.position = position
                moved.append(row)
        SLAPolicy.objects.bulk_update(moved, ["position"])
        _rebuild_open_tickets_after_commit()
    return True


# --- the service vision -------------------------------------------------------------------


def current_vision() -> ServiceVision | None:
    """The one service vision (the first row, should a race ever have made two)."""
    return ServiceVision.objects.select_related("updated_by").order_by("pk").first()


def check_update_vision(
    admin: User,
    *,
    statement: str,
    brand_tone: str,
    channels: Iterable[str],
    languages: Iterable[str],
    coverage: str,
) -> ServiceVision:
    _require_admin(admin)
    errors: dict[str | None, list[str]] = {}
    texts = {
        "statement": (without_nul(statement).strip(), MAX_VISION_TEXT),
        "brand_tone": (without_nul(brand_tone).strip(), MAX_SHORT_TEXT),
        "coverage": (without_nul(coverage).strip(), MAX_SHORT_TEXT),
    }
    for field, (text, limit) in texts.items():
        if len(text) > limit:
            _add(errors, field, _("Keep this under %(count)s characters.") % {"count": f"{limit:,}"})
    offered = list(dict.fromkeys(channels))
    unknown = [channel for channel in offered if channel not in Channel.values]
    if unknown:
        _add(errors, "channels", _("Choose channels from the list."))
    try:
        codes = clean_languages(without_nul(code) for code in languages)
    except ValidationFailed as exc:
        _add(errors, "languages", exc.message)
        codes = []
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        vision = ServiceVision.objects.select_for_update().order_by("pk").first() or ServiceVision()
        vision.statement = texts["statement"][0]
        vision.brand_tone = texts["brand_tone"][0]
        vision.coverage = texts["coverage"][0]
        vision.channels = [channel for channel in Channel.values if channel in offered]
        vision.languages = codes
        vision.updated_by = admin
        vision.save()
    return vision
