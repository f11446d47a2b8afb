from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from relaydesk.accounts.models import Availability, User


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """People join by an admin's invitation, never by open sign-up; signing in makes them available."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        if isinstance(user, User):
            from relaydesk.accounts.actions import do_set_availability

            do_set_availability(user, availability=Availability.AVAILABLE)

    def logout(self, request: HttpRequest) -> None:
        user = request.user
        if isinstance(user, User):
            from relaydesk.accounts.actions import do_set_availability

            do_set_availability(user, availability=Availability.OFFLINE)
        super().logout(request)
