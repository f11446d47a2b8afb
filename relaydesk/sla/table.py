"""The SLA table as the write path reads it: kept per process, checked against a stamp.

Every ticket change that can move a clock applies the table (``sla.actions.policy_for``). Reading
the policies and the team calendars each time cost three queries and their model instances per
change, most of the SLA share of a ticket creation. Instead each process keeps the table with the
stamp it was read under and reads only the one-row stamp per use.

Any change to a policy, a calendar or a team (which calendar it uses) writes a new random stamp
in its own transaction: through the model signals below, and through ``changed()`` where rows are
changed with ``update()``. Another process sees the change as soon as it commits; a rolled-back
change leaves a stamp that no later change writes again, so a table read inside it is never
mistaken for a committed one. Without the stamp row (a flushed test database) nothing is kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save

from relaydesk.accounts.models import Team
from relaydesk.sla.models import BusinessCalendarConfig, SLAPolicy, SLATableStamp

STAMP_ID = 1


@dataclass(frozen=True)
class SLATable:
    stamp: str | None
    policies: list[SLAPolicy]  # active rows in table order, each with its calendar loaded
    team_calendars: dict[int, BusinessCalendarConfig]  # teams that have a calendar

    def team_calendar(self, team_id: int | None) -> BusinessCalendarConfig | None:
        return None if team_id is None else self.team_calendars.get(team_id)


_kept: SLATable | None = None


def _read_stamp() -> str | None:
    return SLATableStamp.objects.filter(pk=STAMP_ID).values_list("stamp", flat=True).first()


def load(stamp: str | None = None) -> SLATable:
    policies = list(
        SLAPolicy.objects.filter(is_active=True).select_related("calendar").order_by("position", "id")
    )
    teams = Team.objects.filter(calendar__isnull=False).select_related("calendar")
    calendars = {team.pk: team.calendar for team in teams if team.calendar is not None}
    return SLATable(stamp=stamp, policies=policies, team_calendars=calendars)


def current() -> SLATable:
    """The table as committed (or as changed by this transaction): one small query when unchanged."""
    global _kept
    stamp = _read_stamp()
    kept = _kept
    if stamp is not None and kept is not None and kept.stamp == stamp:
        return kept
    table = load(stamp)
    if stamp is not None:
        _kept = table
    return table


def changed() -> None:
    """Mark the table changed, in the caller's transaction (for writes that bypass the signals)."""
    new = uuid.uuid4().hex
    if not SLATableStamp.objects.filter(pk=STAMP_ID).update(stamp=new):
        SLATableStamp.objects.bulk_create([SLATableStamp(pk=STAMP_ID, stamp=new)], ignore_conflicts=True)


def _on_change(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    changed()


for _model in (SLAPolicy, BusinessCalendarConfig, Team):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"sla-table-{_model.__name__}")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"sla-table-delete-{_model.__name__}")
