"""The SLA attainment report: met % per group, open breaches, FRT and resolution times; CSV too."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from relaydesk.reports import queries
from relaydesk.reports.forms import (
    DEFAULT_GROUP,
    AttainmentForm,
    Preset,
    ReportFormat,
    ReportPeriod,
    time_zone_names,
)
from relaydesk.reports.queries import DIMENSIONS, AttainmentReport, AttainmentRow
from relaydesk.reports.templatetags.report_format import per_mille
from relaydesk.web.htmx import acting_user, staff_required

TEMPLATE = "reports/sla_attainment.html"


def _form_data(request: HttpRequest) -> dict[str, str]:
    """The query string, one value per name; a NUL (which no field accepts) is shown as U+FFFD."""
    return {name: str(request.GET.get(name, "")).replace("\x00", "\ufffd") for name in request.GET}


@require_GET
@staff_required
def sla_attainment(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    now = timezone.now()
    form = AttainmentForm(_form_data(request), default_zone=user.time_zone, now=now)
    wants_csv = request.GET.get("format") == ReportFormat.CSV
    if not form.is_valid():
        if wants_csv:
            problems = "\n".join(
                f"{name}: {' '.join(str(error) for error in errors)}" for name, errors in form.errors.items()
            )
            return HttpResponse(
                _("The report could not be made:") + "\n" + problems + "\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return render(request, TEMPLATE, _context(form, None, None), status=400)
    period: ReportPeriod = form.cleaned_data["period"]
    report = queries.sla_attainment(
        user, start=period.start, end=period.end, group_by=form.cleaned_data["group"], now=now
    )
    if form.cleaned_data["format"] == ReportFormat.CSV:
        return _csv_response(report, period)
    return render(request, TEMPLATE, _context(form, period, report))


def _context(
    form: AttainmentForm, period: ReportPeriod | None, report: AttainmentReport | None
) -> dict[str, Any]:
    # What the inputs show: the values in force (a preset's dates too); a refused date as typed,
    # so the person sees what to fix.  Fields that passed are in cleaned_data even when others failed.
    clean = form.cleaned_data
    values = {name: form.data.get(name, "") for name in ("from", "to")}
    if period is not None:
        values.update({"from": period.first.isoformat(), "to": period.last.isoformat()})
    return {
        "nav_active": "reports_sla",
        "form": form,
        "values": values,
        # A refused choice cannot be shown in a <select>: it shows the default, the error says why.
        "group": clean.get("group", DEFAULT_GROUP),
        "zone": clean.get("tz", form.default_zone),
        "period": period,
        "report": report,
        "presets": Preset.choices,
        "dimensions": [(d.name, d.title) for d in DIMENSIONS.values()],
        "time_zones": [(name, name.replace("_", " ")) for name in time_zone_names()],
        **_chart_context(report),
    }


def _share(met: int, total: int) -> float | None:
    tenths = per_mille(met, total)
    return None if tenths is None else tenths / 10


# More bars than this make a chart nobody reads; the table below it always has every group.
CHART_MAX_GROUPS = 30


def _chart_context(report: AttainmentReport | None) -> dict[str, Any]:
    if report is None or report.is_empty:
        return {"chart": None}
    rows = [r for r in report.rows if r.first_response_total or r.resolution_total]
    shown = rows
    if len(rows) > CHART_MAX_GROUPS:
        # The groups with the most stopped clocks, kept in the table's order.
        biggest = sorted(rows, key=lambda r: -(r.first_response_total + r.resolution_total))
        keep = {id(r) for r in biggest[:CHART_MAX_GROUPS]}
        shown = [r for r in rows if id(r) in keep]
    per_group = 44 if len(shown) <= 12 else 30
    return {
        "chart": _chart(shown) if shown else None,
        "chart_height": 72 + per_group * len(shown),
        "chart_groups": len(shown),
        "chart_left_out": len(rows) - len(shown),
    }


def _chart(rows: list[AttainmentRow]) -> dict[str, Any]:
    """What charts.js draws: met % per group for both clocks (null where nothing stopped)."""
    return {
        "type": "attainment",
        "labels": [row.label for row in rows],
        "axis": _("Met %"),
        "series": [
            {
                "label": _("First response met"),
                "color": "--chart-first-response",
                "data": [_share(r.first_response_met, r.first_response_total) for r in rows],
                "counts": [[r.first_response_met, r.first_response_total] for r in rows],
            },
            {
                "label": _("Resolution met"),
                "color": "--chart-resolution",
                "data": [_share(r.resolution_met, r.resolution_total) for r in rows],
                "counts": [[r.resolution_met, r.resolution_total] for r in rows],
            },
        ],
        "of": _("%(met)s of %(total)s"),
    }


# --- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = [
    "group",
    "tickets",
    "first_response_met",
    "first_response_total",
    "first_response_met_percent",
    "first_response_open_breached",
    "first_response_times_counted",
    "first_response_median_business_seconds",
    "first_response_p90_business_seconds",
    "first_response_median_calendar_seconds",
    "first_response_p90_calendar_seconds",
    "resolution_met",
    "resolution_total",
    "resolution_met_percent",
    "resolution_open_breached",
    "resolution_times_counted",
    "resolution_median_business_seconds",
    "resolution_p90_business_seconds",
    "resolution_median_calendar_seconds",
    "resolution_p90_calendar_seconds",
]


def _cell_text(value: str) -> str:
    """A name that a spreadsheet would run as a formula (=, +, -, @ …) is written as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _percent_cell(met: int, total: int) -> str:
    tenths = per_mille(met, total)
    return "" if tenths is None else f"{tenths // 10}.{tenths % 10}"


def _csv_row(row: AttainmentRow) -> list[str | int]:
    cells: list[str | int] = [_cell_text(row.label), row.tickets]
    for kind in ("first_response", "resolution"):
        met, total = getattr(row, f"{kind}_met"), getattr(row, f"{kind}_total")
        times = getattr(row, f"{kind}_time")
        cells += [met, total, _percent_cell(met, total), getattr(row, f"{kind}_open_breached")]
        if times is None:
            cells += [0, "", "", "", ""]
        else:
            cells += [
                times.count,
                *(
                    int(value.total_seconds())
                    for value in (
                        times.business_median,
                        times.business_p90,
                        times.calendar_median,
                        times.calendar_p90,
                    )
                ),
            ]
    return cells


def attainment_csv(report: AttainmentReport) -> str:
    """One row per group and a last "All" row; durations in whole seconds (truncated)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(_csv_row(row))
    writer.writerow(_csv_row(report.total))
    return out.getvalue()


def _csv_response(report: AttainmentReport, period: ReportPeriod) -> HttpResponse:
    name = f"sla-attainment-{period.first:%Y%m%d}-{period.last:%Y%m%d}-by-{report.dimension.name}.csv"
    response = HttpResponse(attainment_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
