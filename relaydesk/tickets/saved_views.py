"""Saved views: named queue filters a person keeps for themself or shares with everyone."""

from __future__ import annotations

from relaydesk.accounts.models import User
from relaydesk.core.errors import ValidationFailed
from relaydesk.core.parsing import without_nul
from relaydesk.tickets.models import SavedView

MAX_NAME_LENGTH = 100
MAX_QUERY_LENGTH = 1000


def check_save_view(user: User, *, name: str, query: str, shared: bool) -> SavedView:
    """Create the view, or replace the filters of the owner's view with that name."""
    name = " ".join(without_nul(name).split())[:MAX_NAME_LENGTH]
    if not name:
        raise ValidationFailed("Give the view a name.", field="name")
    view, _created = SavedView.objects.update_or_create(
        owner=user,
        name=name,
        defaults={"query": without_nul(query)[:MAX_QUERY_LENGTH], "is_shared": shared},
    )
    return view


def do_delete_view(user: User, *, view_id: int) -> int:
    """Delete one of ``user``'s own views (others' are untouched); returns how many went."""
    deleted, _per_model = SavedView.objects.filter(owner=user, pk=view_id).delete()
    return deleted
