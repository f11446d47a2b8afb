"""Administration: one business calendar — create, edit, delete — with its next 7 days previewed.

The preview is rendered on the server from what the form holds: on GET from the stored
calendar, on a save with errors from nothing (the errors say what to fix), and while the admin
types through ``calendar_preview`` (htmx posts the form there and swaps the panel).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID
from relaydesk.sla.admin_actions import (
    CalendarValues,
    FieldErrors,
    check_create_calendar,
    check_delete_calendar,
    check_update_calendar,
    clean_calendar,
    policies_using,
)
from relaydesk.sla.forms import CalendarForm, add_errors, calendar_initial
from relaydesk.sla.models import BusinessCalendarConfig
from relaydesk.sla.views.describe import Preview, opening_preview
from relaydesk.web.htmx import acting_user, admin_required

NEW_CALENDAR_HOURS = [["09:00", "17:00"]]


def _get_calendar(calendar_id: int) -> BusinessCalendarConfig:
    calendar = (
        BusinessCalendarConfig.objects.filter(pk=calendar_id).first() if calendar_id <= MAX_ID else None
    )
    if calendar is None:
        raise Http404("No such calendar")
    return calendar


def _preview(values: CalendarValues | BusinessCalendarConfig) -> Preview:
    return opening_preview(
        time_zone=values.time_zone,
        weekly_hours=values.weekly_hours,
        holidays=values.holidays,
        yearly_holidays=values.yearly_holidays,
        now=timezone.now(),
    )


def _stored_preview(calendar: BusinessCalendarConfig) -> Preview | None:
    try:
        return _preview(calendar)
    except (ValidationError, ValueError):  # a row written around the screens that the engine refuses
        return None


def _problems(form: CalendarForm) -> list[tuple[str, str]]:
    """The form's errors as (field label, message): why there is no preview."""
    return [
        (str(form.fields[field].label) if field in form.fields else "", str(error))
        for field, errors in form.errors.items()
        for error in errors
    ]


def _render(
    request: HttpRequest,
    form: CalendarForm,
    *,
    calendar: BusinessCalendarConfig | None,
    preview: Preview | None,
    status: int = 200,
    delete_error: str = "",
) -> HttpResponse:
    context: dict[str, Any] = {
        "nav_active": "admin_sla_calendars",
        "form": form,
        "calendar": calendar,
        "preview": preview,
        "problems": _problems(form) if preview is None and form.is_bound else [],
        "used_by_policies": policies_using(calendar) if calendar else [],
        "delete_error": delete_error,
    }
    return render(request, "sla/calendar.html", context, status=status)


def _save(
    request: HttpRequest, form: CalendarForm, calendar: BusinessCalendarConfig | None
) -> HttpResponse | None:
    """Run the action for a valid form; the redirect, or None with the errors on the form."""
    if not form.is_valid():
        return None
    admin = acting_user(request)
    try:
        if calendar is None:
            saved = check_create_calendar(admin, **form.calendar_values(), teams=form.cleaned_data["teams"])
            messages.success(request, _("Calendar %(name)s was created.") % {"name": saved.name})
        else:
            saved = check_update_calendar(
                admin, calendar.pk, **form.calendar_values(), teams=form.cleaned_data["teams"]
            )
            messages.success(request, _("Calendar %(name)s was saved.") % {"name": saved.name})
    except RelaydeskError as exc:
        add_errors(form, exc)
        return None
    return redirect("sla:calendars")


@admin_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {
        "time_zone": acting_user(request).time_zone,
        **{f"hours_{day}": NEW_CALENDAR_HOURS for day in range(5)},
    }
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST":
        done = _save(request, form, None)
        if done is not None:
            return done
        return _render(request, form, calendar=None, preview=None, status=422)
    defaults = CalendarValues(
        name="",
        time_zone=initial["time_zone"],
        weekly_hours={str(day): NEW_CALENDAR_HOURS for day in range(5)},
        holidays=[],
        yearly_holidays=[],
    )
    return _render(request, form, calendar=None, preview=_preview(defaults))


@admin_required
def calendar_detail(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = _get_calendar(calendar_id)
    form = CalendarForm(request.POST or None, initial=calendar_initial(calendar), calendar=calendar)
    if request.method == "POST":
        done = _save(request, form, calendar)
        if done is not None:
            return done
        return _render(request, form, calendar=calendar, preview=None, status=422)
    return _render(request, form, calendar=calendar, preview=_stored_preview(calendar))


@require_POST
@admin_required
def calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = _get_calendar(calendar_id)
    try:
        name = check_delete_calendar(acting_user(request), calendar.pk)
    except RelaydeskError as exc:
        form = CalendarForm(initial=calendar_initial(calendar), calendar=calendar)
        return _render(
            request,
            form,
            calendar=calendar,
            preview=_stored_preview(calendar),
            status=exc.status_code,
            delete_error=exc.message,
        )
    messages.success(request, _("Calendar %(name)s was deleted.") % {"name": name})
    return redirect("sla:calendars")


@require_POST
@admin_required
def calendar_preview(request: HttpRequest) -> HttpResponse:
    """The preview panel for what the form holds right now (htmx, while the admin types). Writes nothing."""
    form = CalendarForm(request.POST)
    form.fields["name"].required = False  # a preview needs hours, not a name yet
    preview = None
    problems: list[tuple[str, str]] = []

    def label(field: str | None) -> str:
        return str(form.fields[field].label) if field in form.fields else ""

    if form.is_valid():
        try:
            preview = _preview(clean_calendar(**{**form.calendar_values(), "name": "preview"}))
        except FieldErrors as exc:
            problems = [(label(field), message) for field, found in exc.errors.items() for message in found]
    else:
        problems = _problems(form)
    return render(request, "sla/_calendar_preview.html", {"preview": preview, "problems": problems})
