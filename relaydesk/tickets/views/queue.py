"""Queues: My tickets, Unassigned, a team's queue, All open, saved views and search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.accounts.models import Team
from relaydesk.core.errors import RelaydeskError, ValidationFailed
from relaydesk.core.parsing import parse_id
from relaydesk.sla.display import row_state
from relaydesk.tickets.actions import UNSET, check_bulk_change
from relaydesk.tickets.forms import staff_choices
from relaydesk.tickets.models import Channel, Priority, SavedView, Status, Tag
from relaydesk.tickets.queries import (
    Scope,
    SLAState,
    Sort,
    TicketFilters,
    parse_filters,
    queue_counts,
    queue_page,
)
from relaydesk.tickets.saved_views import check_save_view, do_delete_view
from relaydesk.web.htmx import acting_user, is_htmx, staff_required

# 30 rows fill more than a laptop screen; 'Load more' brings the next 30. Each row costs
# ~0.25 ms of rendering, so the page size is most of a queue page's server time.
PAGE_SIZE = 30
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"), ("pt", "Português"),
             ("it", "Italiano"), ("nl", "Nederlands"), ("ja", "日本語"), ("zh", "中文")]  # fmt: skip


def _safe_back(request: HttpRequest, target: str) -> str:
    """Where to go back to after a POST: a path on this site, never another host."""
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


def _label_rows(tickets: list[Any]) -> None:
    """Attach translated labels once per page: get_FOO_display per row costs a lazy
    translation lookup each time, a measurable part of a 50-row page."""
    statuses, channels = dict(Status.choices), dict(Channel.choices)
    now = timezone.now()
    for ticket in tickets:
        ticket.status_label = statuses.get(ticket.status, ticket.status)
        ticket.channel_label = channels.get(ticket.channel, ticket.channel)
        ticket.sla_state, ticket.sla_label = row_state(ticket, now)


def _render_queue(
    request: HttpRequest,
    *,
    scope: str,
    title: str,
    nav_active: str,
    team: Team | None = None,
    saved_view: SavedView | None = None,
    empty_text: str = "",
) -> HttpResponse:
    user = acting_user(request)
    params: Any = request.GET
    if saved_view is not None and not any(k for k in request.GET if k != "cursor"):
        params = QueryDict(saved_view.query)
    error = ""
    try:
        filters = parse_filters(params, scope=scope, team_id=team.pk if team else None)
    except ValidationFailed as exc:
        error = exc.message
        filters = TicketFilters(scope=scope, team_id=team.pk if team else None)
    cursor = request.GET.get("cursor") or None
    try:
        page = queue_page(user, filters, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed as exc:
        error, cursor = " ".join(filter(None, [error, exc.message])), None
        page = queue_page(user, filters, limit=PAGE_SIZE)
    prefetch_related_objects(page.tickets, "tags")
    _label_rows(page.tickets)
    query_without_cursor = params.copy()
    query_without_cursor.pop("cursor", None)
    context = {
        "title": title,
        "nav_active": nav_active,
        "nav_team_id": team.pk if team else None,
        "nav_view_id": saved_view.pk if saved_view else None,
        "saved_view": saved_view,
        "team": team,
        "page": page,
        "filters": filters,
        "error": error,
        "empty_text": empty_text,
        "query": query_without_cursor.urlencode(),
        "search_text": filters.text,
        "options": {
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "teams": list(Team.objects.filter(is_active=True).values_list("id", "name")),
            "agents": list(staff_choices().values_list("id", "full_name")),
            "tags": [(name, name) for name in Tag.objects.values_list("name", flat=True)[:200]],
            "languages": LANGUAGES,
            "sla_states": [(SLAState.AT_RISK, _("SLA at risk")), (SLAState.BREACHED, _("SLA breached"))],
            "sorts": [(Sort.QUEUE, _("Priority, then oldest")), (Sort.SLA, _("SLA due soonest"))],
        },
    }
    if is_htmx(request) and cursor:
        return render(request, "tickets/_queue_rows.html", context)
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-list":
        return render(request, "tickets/_queue_list.html", context)
    return render(request, "tickets/queue.html", context)


@staff_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    return _render_queue(
        request,
        scope=Scope.MINE,
        title=_("My tickets"),
        nav_active="mine",
        empty_text=_("Nothing assigned to you is open — nice work. Pick one from Unassigned."),
    )


@staff_required
def unassigned(request: HttpRequest) -> HttpResponse:
    return _render_queue(
        request,
        scope=Scope.UNASSIGNED,
        title=_("Unassigned"),
        nav_active="unassigned",
        empty_text=_("No tickets waiting for an owner."),
    )


@staff_required
def all_open(request: HttpRequest) -> HttpResponse:
    if not acting_user(request).sees_all_tickets:
        raise Http404
    return _render_queue(request, scope=Scope.ALL, title=_("All open tickets"), nav_active="all")


@staff_required
def team_queue(request: HttpRequest, team_id: int) -> HttpResponse:
    user = acting_user(request)
    teams = Team.objects.all() if user.sees_all_tickets else user.teams.all()
    team = get_object_or_404(teams, pk=team_id)
    return _render_queue(
        request,
        scope=Scope.TEAM,
        title=team.name,
        nav_active="team",
        team=team,
        empty_text=_("This team's queue is empty."),
    )


@staff_required
def saved_view(request: HttpRequest, view_id: int) -> HttpResponse:
    user = acting_user(request)
    view = get_object_or_404(
        SavedView.objects.filter(owner=user) | SavedView.objects.filter(is_shared=True), pk=view_id
    )
    return _render_queue(request, scope=Scope.ALL, title=view.name, nav_active="view", saved_view=view)


@require_GET
@staff_required
def nav_counts(request: HttpRequest) -> HttpResponse:
    """The navigation's open-ticket counts, swapped in after the page loads and every minute.

    Counting thousands of open tickets costs a few milliseconds that the page itself need not
    wait for; polling keeps the counts current while an agent stays on one ticket.
    """
    response = render(request, "tickets/_nav_counts.html", {"counts": queue_counts(acting_user(request))})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params["closed"] = "1"  # search looks through closed tickets too
    request.GET = params  # type: ignore[assignment]
    return _render_queue(
        request,
        scope=Scope.ALL,
        title=_("Search"),
        nav_active="search",
        empty_text=_("No ticket matches. Try fewer words or a ticket number like #1042."),
    )


@staff_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    try:
        view = check_save_view(
            acting_user(request),
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            shared=request.POST.get("shared") == "on",
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect(_safe_back(request, request.POST.get("back", "/")))
    messages.success(request, _("Saved view “%(name)s”.") % {"name": view.name})
    return redirect("tickets:saved_view", view.pk)


@staff_required
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    do_delete_view(acting_user(request), view_id=view_id)
    messages.success(request, _("Saved view deleted."))
    return redirect("tickets:queue")


@staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    back = request.POST.get("back", "/")
    back = _safe_back(request, back)
    ids = [number for number in map(parse_id, request.POST.getlist("ticket")) if number is not None]
    if not ids:
        messages.error(request, _("Select at least one ticket."))
        return redirect(back)
    changes: dict[str, Any] = {}
    assignee = request.POST.get("assignee", "")
    if assignee == "me":
        changes["assignee"] = user
    elif assignee == "none":
        changes["assignee"] = None
    elif parse_id(assignee) is not None:
        changes["assignee"] = staff_choices().filter(pk=parse_id(assignee)).first() or UNSET
    if request.POST.get("status") in Status.values:
        changes["status"] = request.POST["status"]
    if parse_id(request.POST.get("priority")) is not None:
        changes["priority"] = parse_id(request.POST.get("priority"))
    if request.POST.get("add_tag", "").strip():
        changes["add_tags"] = [request.POST["add_tag"]]
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    if not changes:
        messages.error(request, _("Choose what to change."))
        return redirect(back)
    try:
        result = check_bulk_change(user, ids, **changes)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if result.changed:
        messages.success(request, _("Updated %(count)d tickets.") % {"count": len(result.changed)})
    for ticket_id, reason in list(result.failed.items())[:5]:
        messages.error(request, f"#{ticket_id}: {reason}")
    if not result.changed and not result.failed:
        messages.info(request, _("Nothing to change: the tickets already had those values."))
    return redirect(back)
