"""Administration: the SLA table in order, moving rows up and down, and "which row applies?".

Rows are tried from the top; the first active row whose conditions all match a ticket decides
its targets (``sla.policies.first_matching``), so order is the whole point of this screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.sla.admin_actions import check_move_policy
from relaydesk.sla.forms import PolicyTestForm
from relaydesk.sla.models import SLAPolicy
from relaydesk.sla.policies import first_matching
from relaydesk.sla.views.describe import (
    action_labels,
    calendar_parts,
    conditions,
    promises,
    status_labels,
    target_short,
)
from relaydesk.web.htmx import acting_user, admin_required, is_htmx


@dataclass(frozen=True)
class PolicyRow:
    policy: SLAPolicy
    number: int
    conditions: list[str]
    first_response: str
    next_response: str
    resolution: str
    calendar: list[str]
    pause_statuses: list[str]
    warning_actions: list[str]
    breach_actions: list[str]
    is_first: bool
    is_last: bool


def table_policies() -> list[SLAPolicy]:
    return list(SLAPolicy.objects.select_related("team", "calendar").order_by("position", "id"))


def policy_rows(policies: list[SLAPolicy]) -> list[PolicyRow]:
    rows = []
    for number, policy in enumerate(policies, start=1):
        business = policy.business_hours
        if not business:
            calendar = [_("24/7")]
        elif policy.calendar is not None:
            calendar = calendar_parts(policy.calendar)
        else:
            calendar = [_("Team's calendar")]
        rows.append(
            PolicyRow(
                policy=policy,
                number=number,
                conditions=conditions(policy),
                first_response=target_short(policy.first_response_minutes, business=business),
                next_response=target_short(policy.next_response_minutes, business=business),
                resolution=target_short(policy.resolution_minutes, business=business),
                calendar=calendar,
                pause_statuses=status_labels(policy.pause_statuses),
                warning_actions=action_labels(policy.warning_actions),
                breach_actions=action_labels(policy.breach_actions),
                is_first=number == 1,
                is_last=number == len(policies),
            )
        )
    return rows


@dataclass(frozen=True)
class TestResult:
    row: PolicyRow | None
    promises: list[str]


def _test(form: PolicyTestForm, rows: list[PolicyRow]) -> TestResult | None:
    if not form.is_bound or not form.is_valid():
        return None
    data = form.cleaned_data
    team = data.get("team")
    match = first_matching(
        [row.policy for row in rows],
        channel=data["channel"],
        priority=data["priority"],
        tier=data["tier"],
        team_id=team.pk if team else None,
    )
    row = next((row for row in rows if row.policy is match), None)
    team_calendar = team.calendar if team is not None else None
    return TestResult(row=row, promises=promises(match, team_calendar=team_calendar) if match else [])


@require_GET
@admin_required
def policies(request: HttpRequest) -> HttpResponse:
    rows = policy_rows(table_policies())
    testing = "channel" in request.GET
    form = PolicyTestForm(request.GET if testing else None)
    context: dict[str, Any] = {
        "nav_active": "admin_sla_policies",
        "rows": rows,
        "test_form": form,
        "test_result": _test(form, rows),
    }
    if testing and is_htmx(request):
        return render(request, "sla/_policy_test_result.html", context)
    return render(request, "sla/policies.html", context)


@require_POST
@admin_required
def policy_move(request: HttpRequest, policy_id: int) -> HttpResponse:
    direction = request.POST.get("direction", "")
    error = ""
    try:
        check_move_policy(acting_user(request), policy_id, direction=direction)
    except RelaydeskError as exc:
        error = exc.message
    if is_htmx(request):
        # 200 even on an error: htmx swaps only successful responses, and the table shows it.
        context = {"rows": policy_rows(table_policies()), "move_error": error}
        return render(request, "sla/_policy_table.html", context)
    if error:
        messages.error(request, error)
    return redirect(reverse("sla:policies") + f"#policy-{policy_id}")
