"""Administration: teams (name, region, time zone, description, active) and their members."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relaydesk.accounts import admin_queries
from relaydesk.accounts.actions import check_create_team, check_update_team
from relaydesk.accounts.forms import TeamForm, add_action_error
from relaydesk.accounts.models import Team
from relaydesk.core.errors import RelaydeskError
from relaydesk.web.htmx import acting_user, admin_required


@admin_required
def teams(request: HttpRequest) -> HttpResponse:
    """The list, with the form to create a team beside it."""
    form = TeamForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                team = check_create_team(acting_user(request), **form.cleaned_data)
            except RelaydeskError as exc:
                add_action_error(form, exc)
            else:
                messages.success(request, _("Team %(name)s was created.") % {"name": team.name})
                return redirect("staff:teams")
    return render(
        request,
        "accounts/admin/teams.html",
        {"nav_active": "admin_teams", "teams": list(admin_queries.teams_with_counts()), "form": form},
        status=status,
    )


@admin_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team")
    initial = {
        "name": team.name,
        "region": team.region,
        "time_zone": team.time_zone,
        "description": team.description,
        "is_active": team.is_active,
        "calendar": team.calendar_id,
        "escalation_team": team.escalation_team_id,
    }
    form = TeamForm(request.POST or None, initial=initial, team=team)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                check_update_team(acting_user(request), team.pk, **form.cleaned_data)
            except RelaydeskError as exc:
                add_action_error(form, exc)
            else:
                messages.success(request, _("Team %(name)s was saved.") % {"name": form.cleaned_data["name"]})
                return redirect("staff:teams")
    members = list(
        team.members.order_by("-is_active", "full_name").only(
            "id", "full_name", "email", "role", "level", "is_active"
        )
    )
    return render(
        request,
        "accounts/admin/team.html",
        {"nav_active": "admin_teams", "team": team, "form": form, "members": members},
        status=status,
    )
