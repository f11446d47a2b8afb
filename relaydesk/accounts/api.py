"""People working in Relaydesk, read-only over the API (to pick assignees, show names).

Any active member of staff may list colleagues: assigning and mentioning needs it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from relaydesk.accounts.models import User
from relaydesk.api.auth import acting_user
from relaydesk.api.pagination import MAX_PAGE_SIZE, id_page
from relaydesk.api.schemas import READ_ERRORS, Cursor, Id, Ref, ShortText
from relaydesk.core.errors import NotFound

router = Router(tags=["users"])


class UserOut(Schema):
    id: int
    full_name: str
    email: str
    role: str
    level: str
    teams: list[Ref]
    time_zone: str
    languages: list[str]
    skills: list[str]
    is_active: bool

    @staticmethod
    def resolve_teams(user: User) -> list[Any]:
        return list(user.teams.all())


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class MeOut(UserOut):
    token_scope: str | None = Field(description="The scope of the token used, or null for a session.")

    @staticmethod
    def resolve_token_scope(user: User, context: dict[str, Any]) -> str | None:
        token = getattr(context["request"], "api_token", None)
        return token.scope if token is not None else None


class UserListParams(Schema):
    q: ShortText = Field("", description="Text in the name or email.")
    team: Id | None = Field(None, description="Only members of this team.")
    cursor: Cursor | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get("/users", response={200: UserPage, **READ_ERRORS})
def list_users(request: HttpRequest, params: Query[UserListParams]) -> dict[str, Any]:
    """Active staff, in id order."""
    users = User.objects.filter(is_active=True).prefetch_related("teams")
    if params.q:
        users = users.filter(Q(full_name__icontains=params.q) | Q(email__icontains=params.q))
    if params.team is not None:
        users = users.filter(teams=params.team)
    page = id_page(users, cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/users/me", response={200: MeOut, **READ_ERRORS})
def me(request: HttpRequest) -> User:
    """Who the API sees you as, and the scope of your token."""
    return acting_user(request)


@router.get("/users/{user_id}", response={200: UserOut, **READ_ERRORS})
def get_user(request: HttpRequest, user_id: Id) -> User:
    """Anyone, deactivated people included: old tickets still name them."""
    user = User.objects.prefetch_related("teams").filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user
