"""Administration: the people table with filters, and the pending invitations."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relaydesk.accounts import admin_queries
from relaydesk.accounts.admin_queries import ActiveFilter, PeopleFilters
from relaydesk.accounts.forms import PeopleFilterForm
from relaydesk.accounts.models import Role, Team, User
from relaydesk.core.parsing import parse_id
from relaydesk.web.htmx import admin_required


def _filters(form: PeopleFilterForm) -> PeopleFilters:
    """Valid filters from the query string; an invalid value is dropped (the form shows why)."""
    form.is_valid()
    data = form.cleaned_data  # after validation it holds the valid fields only
    team: Team | None = data.get("team")
    return PeopleFilters(
        role=data.get("role") or "",
        team_id=team.pk if team else None,
        active=data.get("active") or ActiveFilter.ACTIVE,
        text=" ".join((data.get("q") or "").split()),
    )


def _after(request: HttpRequest) -> tuple[str, int] | None:
    """The keyset cursor: the id of the last person on the previous page."""
    after = parse_id(request.GET.get("after"))
    if after is None:
        return None
    return User.objects.filter(pk=after).values_list("full_name", "pk").first()


@require_GET
@admin_required
def people(request: HttpRequest) -> HttpResponse:
    form = PeopleFilterForm(request.GET or None)
    filters = _filters(form) if form.is_bound else PeopleFilters()
    after = _after(request)
    rows = list(admin_queries.people(filters, after=after)[: admin_queries.PEOPLE_PAGE_SIZE + 1])
    has_more = len(rows) > admin_queries.PEOPLE_PAGE_SIZE
    rows = rows[: admin_queries.PEOPLE_PAGE_SIZE]
    next_query = None
    if has_more:
        params = request.GET.copy()
        params["after"] = str(rows[-1].pk)
        next_query = params.urlencode()
    return render(
        request,
        "accounts/admin/people.html",
        {
            "nav_active": "admin_people",
            "filter_form": form if form.is_bound else PeopleFilterForm(),
            "filters": filters,
            "people": rows,
            "next_query": next_query,
            "is_later_page": after is not None,
            "invitations": list(admin_queries.pending_invitations()[:200]),
            "roles": Role,
        },
    )
