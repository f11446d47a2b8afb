"""People who work in Relaydesk: users with a role, their teams and their API tokens.

Customers are not users: they are ``customers.Contact`` rows.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value}) from exc


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    QA_REVIEWER = "qa_reviewer", _("QA reviewer")
    KNOWLEDGE_OWNER = "knowledge_owner", _("Knowledge owner")


# Roles that see every ticket, whatever their teams.
ROLES_SEEING_ALL_TICKETS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.QA_REVIEWER})


class Level(models.TextChoices):
    L1 = "l1", _("L1")
    L2 = "l2", _("L2")
    SPECIALIST = "specialist", _("Specialist")


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BREAK = "break", _("On a break")
    OFFLINE = "offline", _("Offline")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    description = models.TextField(_("description"), blank=True)
    # The opening hours its SLA clocks run on (business-time targets).
    calendar = models.ForeignKey(
        "sla.BusinessCalendarConfig",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams",
        verbose_name=_("business calendar"),
    )
    # Where an SLA escalation moves its tickets: the next level's team (L1 → L2 → specialist).
    escalation_team = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalates to"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__lower=(username or "").lower())

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person working in the center, with the agent profile that routing and SLAs use."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    level = models.CharField(_("support level"), max_length=20, choices=Level.choices, default=Level.L1)
    teams = models.ManyToManyField(Team, related_name="members", blank=True, verbose_name=_("teams"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, help_text=_("ISO codes, e.g. en, de")
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    # Whether this person is taking work right now; routing (follow the sun) reads it.
    availability = models.CharField(
        _("availability"), max_length=20, choices=Availability.choices, default=Availability.OFFLINE
    )
    availability_changed_at = models.DateTimeField(null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=8, help_text=_("Open conversations this person can hold at once")
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Which notification kinds also come by email (kind -> bool); in-app always.
    email_notifications = models.JSONField(default=dict, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def initials(self) -> str:
        parts = [p for p in self.full_name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or self.email[:2].upper()

    @cached_property
    def team_ids(self) -> frozenset[int]:
        """This person's team ids, read once per request (the user object lives for one request)."""
        return frozenset(self.teams.values_list("id", flat=True))

    @cached_property
    def first_team(self) -> Team | None:
        """Where a ticket this person opens goes when no team is chosen (read once per request)."""
        return self.teams.order_by("name").first()

    @property
    def sees_all_tickets(self) -> bool:
        return self.role in ROLES_SEEING_ALL_TICKETS

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_supervisor_or_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(_("scope"), max_length=20, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(models.Model):
    """An invitation to join, sent by email; accepting it creates the user with these settings."""

    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    level = models.CharField(_("support level"), max_length=20, choices=Level.choices, default=Level.L1)
    teams = models.ManyToManyField(Team, blank=True, verbose_name=_("teams"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
