"""Every change to people, invitations and teams goes through here.

``check_*`` validates input and the acting user's permission, then calls ``do_*``, which
writes. Arguments after the subject are keyword-only. Errors are ``RelaydeskError``s
whose message is shown next to the field named by ``.field``.

Invitation tokens are 256-bit random strings; only their SHA-256 is stored (like API
tokens, a fast hash is enough for a secret with this much randomness). The raw token
exists in the invitation email and, once, on the admin's screen.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from relaydesk.accounts.models import Availability, Invitation, Level, Role, Team, User
from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.core.jobs import enqueue_on_commit

if TYPE_CHECKING:
    from relaydesk.sla.models import BusinessCalendarConfig

INVITATION_LIFETIME = timedelta(days=7)
MAX_TOKEN_LENGTH = 100  # anything longer in a URL is garbage, not a token
LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MAX_LANGUAGES = 20
MAX_SKILLS = 40
MAX_SKILL_LENGTH = 50
MAX_CAPACITY = 200
BULK_CHUNK = 500  # tickets.actions.check_bulk_change takes at most this many at once


# --- shared validation --------------------------------------------------------------------


def _require_admin(user: User) -> None:
    if not user.is_active or not user.is_admin:
        raise PermissionDenied("Only admins can manage people and teams.")


def clean_full_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationFailed("Enter a name.", field="full_name")
    if len(name) > 150:
        raise ValidationFailed("The name is longer than 150 characters.", field="full_name")
    return name


def clean_email(value: str) -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    return email


def clean_time_zone(value: str, *, field_name: str = "time_zone") -> str:
    if value not in zoneinfo.available_timezones():
        raise ValidationFailed(f"{value!r} is not a known time zone.", field=field_name)
    return value


def clean_role(value: str) -> str:
    if value not in Role.values:
        raise ValidationFailed(f"Unknown role {value!r}.", field="role")
    return value


def clean_level(value: str) -> str:
    if value not in Level.values:
        raise ValidationFailed(f"Unknown support level {value!r}.", field="level")
    return value


def clean_languages(values: Iterable[str]) -> list[str]:
    """ISO codes like ``en`` or ``pt-br``, lower case, each once, in the order given."""
    result: list[str] = []
    for raw in values:
        code = raw.strip().lower().replace("_", "-")
        if not code:
            continue
        if not LANGUAGE_CODE_RE.match(code):
            raise ValidationFailed(
                f"{raw.strip()!r} is not a language code; use ISO codes such as en, de or pt-br.",
                field="languages",
            )
        if code not in result:
            result.append(code)
    if len(result) > MAX_LANGUAGES:
        raise ValidationFailed(f"List at most {MAX_LANGUAGES} languages.", field="languages")
    return result


def clean_skills(values: Iterable[str]) -> list[str]:
    result: list[str] = []
    seen: set[str] = set()
    for raw in values:
        skill = " ".join(raw.split())
        if not skill:
            continue
        if len(skill) > MAX_SKILL_LENGTH:
            raise ValidationFailed(
                f"Keep each skill under {MAX_SKILL_LENGTH} characters ({skill[:20]}…).", field="skills"
            )
        if skill.lower() not in seen:
            seen.add(skill.lower())
            result.append(skill)
    if len(result) > MAX_SKILLS:
        raise ValidationFailed(f"List at most {MAX_SKILLS} skills.", field="skills")
    return result


def split_list(text: str) -> list[str]:
    """``"en, de; fr"`` → ``["en", "de", "fr"]``: how list fields are typed in forms."""
    return [part for part in re.split(r"[,;\n]", text or "") if part.strip()]


# --- your own profile ---------------------------------------------------------------------


def check_update_profile(user: User, *, full_name: str, time_zone: str, languages: Iterable[str]) -> User:
    """A person changes their own name, time zone and languages."""
    if not user.is_active:
        raise PermissionDenied("Your account is deactivated.")
    user.full_name = clean_full_name(full_name)
    user.time_zone = clean_time_zone(time_zone)
    user.languages = clean_languages(languages)
    user.save(update_fields=["full_name", "time_zone", "languages"])
    return user


# --- invitations --------------------------------------------------------------------------


def hash_invitation_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, hash_invitation_token(raw)


def _check_email_is_free(email: str, *, ignore_invitation: Invitation | None = None) -> None:
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationFailed(f"{email} already has an account.", field="email")
        raise ValidationFailed(
            f"{email} has a deactivated account: reactivate it on the People page instead.", field="email"
        )
    pending = Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    if ignore_invitation is not None:
        pending = pending.exclude(pk=ignore_invitation.pk)
    if pending.exists():
        raise ValidationFailed(
            f"{email} already has a pending invitation: resend or revoke it below.", field="email"
        )


def do_create_invitation(
    *,
    email: str,
    full_name: str,
    role: str,
    level: str,
    teams: Sequence[Team],
    time_zone: str,
    invited_by: User | None,
) -> tuple[Invitation, str]:
    """Store the invitation and email the link after commit; returns it and the raw token."""
    from relaydesk.accounts.tasks import send_invitation_email

    raw, token_hash = _new_token()
    now = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        full_name=full_name,
        role=role,
        level=level,
        time_zone=time_zone,
        token_hash=token_hash,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    invitation.teams.set(teams)
    enqueue_on_commit(send_invitation_email, invitation.pk, raw)
    return invitation, raw


def check_invite_person(
    admin: User,
    *,
    email: str,
    full_name: str,
    role: str,
    level: str,
    teams: Sequence[Team],
    time_zone: str,
) -> tuple[Invitation, str]:
    _require_admin(admin)
    clean = clean_email(email)
    name = clean_full_name(full_name)
    clean_role(role)
    clean_level(level)
    clean_time_zone(time_zone)
    with transaction.atomic():
        _check_email_is_free(clean)
        return do_create_invitation(
            email=clean,
            full_name=name,
            role=role,
            level=level,
            teams=teams,
            time_zone=time_zone,
            invited_by=admin,
        )


def _pending_invitation_for_update(invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("That invitation does not exist.")
    if invitation.accepted_at is not None:
        raise ValidationFailed(f"{invitation.email} has already accepted this invitation.")
    return invitation


def check_revoke_invitation(admin: User, *, invitation_id: int) -> Invitation:
    _require_admin(admin)
    with transaction.atomic():
        invitation = _pending_invitation_for_update(invitation_id)
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def check_resend_invitation(admin: User, *, invitation_id: int) -> tuple[Invitation, str]:
    """Send a fresh link valid for another 7 days. The old link stops working (only hashes are kept)."""
    from relaydesk.accounts.tasks import send_invitation_email

    _require_admin(admin)
    with transaction.atomic():
        invitation = _pending_invitation_for_update(invitation_id)
        _check_email_is_free(invitation.email, ignore_invitation=invitation)
        raw, token_hash = _new_token()
        now = timezone.now()
        invitation.token_hash = token_hash
        invitation.expires_at = now + INVITATION_LIFETIME
        invitation.revoked_at = None
        invitation.save(update_fields=["token_hash", "expires_at", "revoked_at"])
        enqueue_on_commit(send_invitation_email, invitation.pk, raw)
    return invitation, raw


class InvitationState:
    USABLE = "usable"
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


def invitation_state(invitation: Invitation | None) -> str:
    if invitation is None:
        return InvitationState.UNKNOWN
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= timezone.now():
        return InvitationState.EXPIRED
    return InvitationState.USABLE


def find_invitation(raw_token: str) -> Invitation | None:
    """The invitation a link's token belongs to, whatever its state; None for garbage."""
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    return Invitation.objects.filter(token_hash=hash_invitation_token(raw_token)).first()


INVITATION_ERRORS = {
    InvitationState.UNKNOWN: "This invitation link is not valid. Check that you copied the whole link.",
    InvitationState.ACCEPTED: "This invitation has already been used. Sign in with your email and password.",
    InvitationState.REVOKED: "This invitation was withdrawn by an admin. Ask them for a new one.",
    InvitationState.EXPIRED: "This invitation has expired. Ask an admin to send you a new one.",
}


def do_accept_invitation(*, raw_token: str, password: str) -> User:
    """Create the invited person with the invitation's settings; the token works once.

    Runs in its own transaction with the invitation row locked, so two clicks on the
    same link cannot create two accounts (the email's unique constraint backs this up).
    """
    with transaction.atomic():
        if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
            raise ValidationFailed(INVITATION_ERRORS[InvitationState.UNKNOWN], field="token")
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=hash_invitation_token(raw_token)).first()
        )
        state = invitation_state(invitation)
        if invitation is None or state != InvitationState.USABLE:
            raise ValidationFailed(INVITATION_ERRORS[state], field="token")
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationFailed(
                f"{invitation.email} already has an account. Sign in instead.", field="token"
            )
        candidate = User(email=invitation.email, full_name=invitation.full_name)
        try:
            password_validation.validate_password(password, user=candidate)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password1") from None
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email,
                    password,
                    full_name=invitation.full_name,
                    role=invitation.role,
                    level=invitation.level,
                    time_zone=invitation.time_zone,
                )
        except IntegrityError:
            raise ValidationFailed(
                f"{invitation.email} already has an account. Sign in instead.", field="token"
            ) from None
        user.teams.set(invitation.teams.all())
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


# --- people -------------------------------------------------------------------------------


def _lock_admin_and_person(admin: User, person_id: int) -> User:
    """Lock the acting admin's row and the person's (in id order, so no deadlock) and re-check the admin.

    Two admins deactivating or demoting each other at the same moment would otherwise both
    succeed and leave nobody in charge: the second one now waits, then finds it is no
    longer an active admin.
    """
    rows = {
        user.pk: user
        for user in User.objects.select_for_update().filter(pk__in=[admin.pk, person_id]).order_by("pk")
    }
    fresh_admin = rows.get(admin.pk)
    if fresh_admin is None or not fresh_admin.is_active or not fresh_admin.is_admin:
        raise PermissionDenied("Only admins can manage people and teams.")
    person = rows.get(person_id)
    if person is None:
        raise NotFound("That person does not exist.")
    return person


def _other_active_admins(person: User) -> int:
    """Active admins besides ``person`` (defence in depth: the acting admin is one of them)."""
    return User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=person.pk).count()


def check_update_person(
    admin: User,
    person_id: int,
    *,
    role: str,
    level: str,
    teams: Sequence[Team],
    capacity: int,
    languages: Iterable[str],
    skills: Iterable[str],
) -> User:
    """An admin changes someone's role, level, teams and routing profile."""
    _require_admin(admin)
    clean_role(role)
    clean_level(level)
    if not 0 <= capacity <= MAX_CAPACITY:
        raise ValidationFailed(f"Capacity must be between 0 and {MAX_CAPACITY}.", field="capacity")
    clean_langs = clean_languages(languages)
    clean_skill_list = clean_skills(skills)
    with transaction.atomic():
        person = _lock_admin_and_person(admin, person_id)
        if person.role == Role.ADMIN and role != Role.ADMIN:
            if person.pk == admin.pk:
                raise ValidationFailed(
                    "You cannot remove your own admin role; ask another admin to do it.", field="role"
                )
            if person.is_active and _other_active_admins(person) == 0:
                raise ValidationFailed("Relaydesk needs at least one active admin.", field="role")
        person.role = role
        person.level = level
        person.capacity = capacity
        person.languages = clean_langs
        person.skills = clean_skill_list
        person.save(update_fields=["role", "level", "capacity", "languages", "skills"])
        person.teams.set(teams)
    return person


@dataclass
class DeactivationResult:
    person: User
    reassigned: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def do_deactivate_person(person: User) -> None:
    """Deactivate ``person`` (locked). They can no longer sign in and their sessions stop working."""
    person.is_active = False
    person.deactivated_at = timezone.now()
    person.save(update_fields=["is_active", "deactivated_at"])


def open_ticket_ids(person: User) -> list[int]:
    from relaydesk.tickets.models import OPEN_STATUSES, Ticket

    return list(
        Ticket.objects.filter(assignee=person, status__in=OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _assignee_target(person: User, reassign_to_id: int | None) -> User | None:
    if reassign_to_id is None:
        return None
    if reassign_to_id == person.pk:
        raise ValidationFailed("Pick someone else to take over the tickets.", field="reassign_to")
    target = User.objects.filter(pk=reassign_to_id, is_active=True).first()
    if target is None:
        raise ValidationFailed("Pick an active person to take over the tickets.", field="reassign_to")
    return target


def check_reassign_open_tickets(
    admin: User, person_id: int, *, reassign_to_id: int | None
) -> DeactivationResult:
    """Move all of ``person``'s open tickets to someone else (or back to Unassigned).

    Each ticket goes through ``tickets.actions`` in its own transaction, so every move
    writes an assignee event and notifies the new assignee; failures are collected.
    """
    from relaydesk.tickets.actions import check_bulk_change

    _require_admin(admin)
    person = User.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound("That person does not exist.")
    target = _assignee_target(person, reassign_to_id)
    result = DeactivationResult(person=person)
    ids = open_ticket_ids(person)
    for start in range(0, len(ids), BULK_CHUNK):
        bulk = check_bulk_change(admin, ids[start : start + BULK_CHUNK], assignee=target)
        result.reassigned += bulk.changed
        result.failed.update(bulk.failed)
    return result


def check_deactivate_person(admin: User, person_id: int, *, reassign_to_id: int | None) -> DeactivationResult:
    """Deactivate someone, then hand their open tickets to ``reassign_to_id`` (None: Unassigned)."""
    _require_admin(admin)
    with transaction.atomic():
        person = _lock_admin_and_person(admin, person_id)
        target = _assignee_target(person, reassign_to_id)
        if person.pk == admin.pk:
            raise ValidationFailed("You cannot deactivate yourself; ask another admin.")
        if not person.is_active:
            raise ValidationFailed(f"{person} is already deactivated.")
        if person.role == Role.ADMIN and _other_active_admins(person) == 0:
            raise ValidationFailed("Relaydesk needs at least one active admin.")
        do_deactivate_person(person)
    return check_reassign_open_tickets(admin, person.pk, reassign_to_id=target.pk if target else None)


def check_reactivate_person(admin: User, person_id: int) -> User:
    _require_admin(admin)
    with transaction.atomic():
        person = _lock_admin_and_person(admin, person_id)
        if not person.is_active:
            person.is_active = True
            person.deactivated_at = None
            person.save(update_fields=["is_active", "deactivated_at"])
    return person


# --- teams --------------------------------------------------------------------------------


def _clean_team_fields(*, name: str, region: str, time_zone: str, description: str) -> dict[str, str]:
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise ValidationFailed("Give the team a name.", field="name")
    if len(clean_name) > 100:
        raise ValidationFailed("The name is longer than 100 characters.", field="name")
    clean_region = " ".join((region or "").split())
    if len(clean_region) > 100:
        raise ValidationFailed("The region is longer than 100 characters.", field="region")
    if len(description or "") > 5000:
        raise ValidationFailed("Keep the description under 5,000 characters.", field="description")
    return {
        "name": clean_name,
        "region": clean_region,
        "time_zone": clean_time_zone(time_zone),
        "description": (description or "").strip(),
    }


def _check_team_name_free(name: str, *, exclude_id: int | None = None) -> None:
    clash = Team.objects.filter(name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationFailed(f"There is already a team called {name}.", field="name")


def _rebuild_sla_clocks_after_commit() -> None:
    """A team's calendar decides when its open tickets are due (business-hour targets)."""
    from relaydesk.sla.rebuild_tasks import rebuild_open_ticket_clocks

    enqueue_on_commit(rebuild_open_ticket_clocks)


def _check_escalation_team(team_id: int | None, escalation_team: Team | None) -> None:
    if escalation_team is not None and team_id is not None and escalation_team.pk == team_id:
        raise ValidationFailed(
            "A team cannot escalate to itself; pick the next level's team.", field="escalation_team"
        )


def check_create_team(
    admin: User,
    *,
    name: str,
    region: str,
    time_zone: str,
    description: str,
    is_active: bool = True,
    calendar: BusinessCalendarConfig | None = None,
    escalation_team: Team | None = None,
) -> Team:
    _require_admin(admin)
    fields = _clean_team_fields(name=name, region=region, time_zone=time_zone, description=description)
    with transaction.atomic():
        _check_team_name_free(fields["name"])
        try:
            with transaction.atomic():
                return Team.objects.create(
                    **fields, is_active=is_active, calendar=calendar, escalation_team=escalation_team
                )
        except IntegrityError:
            raise ValidationFailed(
                f"There is already a team called {fields['name']}.", field="name"
            ) from None


def check_update_team(
    admin: User,
    team_id: int,
    *,
    name: str,
    region: str,
    time_zone: str,
    description: str,
    is_active: bool,
    calendar: BusinessCalendarConfig | None,
    escalation_team: Team | None,
) -> Team:
    _require_admin(admin)
    fields = _clean_team_fields(name=name, region=region, time_zone=time_zone, description=description)
    _check_escalation_team(team_id, escalation_team)
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise NotFound("That team does not exist.")
        _check_team_name_free(fields["name"], exclude_id=team.pk)
        calendar_changed = team.calendar_id != (calendar.pk if calendar else None)
        for key, value in fields.items():
            setattr(team, key, value)
        team.is_active = is_active
        team.calendar = calendar
        team.escalation_team = escalation_team
        try:
            with transaction.atomic():
                team.save(update_fields=[*fields, "is_active", "calendar", "escalation_team"])
        except IntegrityError:
            raise ValidationFailed(
                f"There is already a team called {fields['name']}.", field="name"
            ) from None
        if calendar_changed:
            _rebuild_sla_clocks_after_commit()
    return team


# --- availability -------------------------------------------------------------------------


def do_set_availability(user: User, *, availability: str) -> User:
    """Available / on a break / offline, as the person says it. Idempotent."""
    if availability not in Availability.values:
        raise ValidationFailed(f"Unknown availability {availability!r}.", field="availability")
    if user.availability != availability:
        user.availability = availability
        user.availability_changed_at = timezone.now()
        user.save(update_fields=["availability", "availability_changed_at"])
    return user
