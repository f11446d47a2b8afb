"""The shared test world: two teams, an agent in each, a supervisor, an admin, two customers.

alice   agent of Americas        (sees Americas tickets)
bob     agent of EMEA            (sees EMEA tickets only)
sam     supervisor               (sees everything)
ada     admin                    (sees everything)
carol   customer of Acme         (contact, not a user)
dave    customer of Globex
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings

from relaydesk.accounts.models import Level, Role, Team, User
from relaydesk.customers.models import Contact, ContactEmail, Organization
from relaydesk.tickets.actions import do_create_ticket
from relaydesk.tickets.models import Channel, Ticket


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI=true a configured service that is not reachable fails the run, it never skips."""
    if os.environ.get("CI", "").lower() != "true":
        return
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()


@dataclass
class World:
    americas: Team
    emea: Team
    alice: User
    bob: User
    sam: User
    ada: User
    acme: Organization
    carol: Contact
    dave: Contact

    def ticket(
        self, *, team: Team | None = None, subject: str = "Printer is down", **kwargs: object
    ) -> Ticket:
        return do_create_ticket(
            subject=subject,
            requester=kwargs.pop("requester", self.carol),  # type: ignore[arg-type]
            body_text=str(kwargs.pop("body_text", "It stopped printing this morning.")),
            channel=str(kwargs.pop("channel", Channel.EMAIL)),
            team=team or self.americas,
            **kwargs,  # type: ignore[arg-type]
        )


def make_user(email: str, name: str, role: str, teams: list[Team], **fields: object) -> User:
    user = User.objects.create_user(email, "correct-horse-battery", full_name=name, role=role, **fields)
    user.teams.set(teams)
    return user


@pytest.fixture
def world(db: None) -> World:
    americas = Team.objects.create(name="Americas", region="Americas", time_zone="America/New_York")
    emea = Team.objects.create(name="EMEA", region="EMEA", time_zone="Europe/Berlin")
    acme = Organization.objects.create(name="Acme", domain="acme.example")
    carol = Contact.objects.create(name="Carol Customer", organization=acme, time_zone="America/Chicago")
    ContactEmail.objects.create(contact=carol, address="carol@acme.example", is_primary=True)
    dave = Contact.objects.create(name="Dave Doe", language="de", time_zone="Europe/Berlin")
    ContactEmail.objects.create(contact=dave, address="dave@globex.example", is_primary=True)
    return World(
        americas=americas,
        emea=emea,
        alice=make_user(
            "alice@relaydesk.test", "Alice Agent", Role.AGENT, [americas], time_zone="America/New_York"
        ),
        bob=make_user("bob@relaydesk.test", "Bob Berger", Role.AGENT, [emea], level=Level.L2),
        sam=make_user("sam@relaydesk.test", "Sam Supervisor", Role.SUPERVISOR, [americas]),
        ada=make_user("ada@relaydesk.test", "Ada Admin", Role.ADMIN, []),
        acme=acme,
        carol=carol,
        dave=dave,
    )


@pytest.fixture(autouse=True)
def _media_in_memory(settings: object) -> None:
    """Attachments are written to Django's in-memory storage (see test settings)."""


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
