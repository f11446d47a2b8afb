"""Reads for the administration screens (admins see everyone; views check the role first)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from relaydesk.accounts.models import Invitation, Team, User
from relaydesk.tickets.models import OPEN_STATUSES, Ticket

PEOPLE_PAGE_SIZE = 100


class ActiveFilter:
    ACTIVE = "active"
    INACTIVE = "inactive"
    ALL = "all"


@dataclass
class PeopleFilters:
    role: str = ""
    team_id: int | None = None
    active: str = ActiveFilter.ACTIVE
    text: str = ""

    @property
    def is_filtered(self) -> bool:
        return bool(self.role or self.team_id or self.text or self.active != ActiveFilter.ACTIVE)


def open_ticket_count_subquery() -> Coalesce:
    """Open tickets assigned to the outer user: a correlated count on the assignee queue index."""
    counts = (
        Ticket.objects.filter(assignee=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def people(filters: PeopleFilters, *, after: tuple[str, int] | None = None) -> QuerySet[User]:
    """People in name order with their open-ticket count, teams prefetched (two queries per page).

    ``after`` is the (full_name, id) of the last row already shown: keyset pagination.
    """
    queryset = User.objects.annotate(open_tickets=open_ticket_count_subquery()).prefetch_related(
        Prefetch("teams", queryset=Team.objects.only("id", "name"))
    )
    if filters.active == ActiveFilter.ACTIVE:
        queryset = queryset.filter(is_active=True)
    elif filters.active == ActiveFilter.INACTIVE:
        queryset = queryset.filter(is_active=False)
    if filters.role:
        queryset = queryset.filter(role=filters.role)
    if filters.team_id:
        queryset = queryset.filter(teams__id=filters.team_id)
    if filters.text:
        queryset = queryset.filter(Q(full_name__icontains=filters.text) | Q(email__icontains=filters.text))
    if after is not None:
        name, pk = after
        queryset = queryset.filter(Q(full_name__gt=name) | Q(full_name=name, pk__gt=pk))
    return queryset.order_by("full_name", "id")


def pending_invitations() -> QuerySet[Invitation]:
    """Invitations not yet accepted or revoked, expired ones included (they can be resent)."""
    return (
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.only("id", "name")))
        .order_by("-created_at")
    )


def teams_with_counts() -> QuerySet[Team]:
    return Team.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True), distinct=True)
    ).order_by("-is_active", "name")


def people_to_take_over(person: User) -> QuerySet[User]:
    """Who can take over ``person``'s tickets: every other active person."""
    return (
        User.objects.filter(is_active=True)
        .exclude(pk=person.pk)
        .only("id", "full_name", "email", "role")
        .order_by("full_name", "id")
    )


def open_tickets_of(person: User, limit: int = 50) -> tuple[list[Ticket], int]:
    queryset = Ticket.objects.filter(assignee=person, status__in=OPEN_STATUSES)
    total = queryset.count()
    rows = list(
        queryset.select_related("team", "requester").order_by("priority", "waiting_since", "id")[:limit]
    )
    return rows, total
