"""Tickets, their messages and attachments, and the event timeline.

No side effects live here: every change goes through ``tickets.actions``.
The ticket number shown to people is the primary key (sequential, unique, no lock).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import Level, Team
from relaydesk.customers.models import Contact, Organization


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING_CUSTOMER = "pending_customer", _("Pending – customer")
    PENDING_INTERNAL = "pending_internal", _("Pending – internal")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.PENDING_CUSTOMER,
    Status.PENDING_INTERNAL,
)


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 · Urgent outage")
    P2 = 2, _("P2 · Time-sensitive")
    P3 = 3, _("P3 · Standard")
    P4 = 4, _("P4 · Low")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social")
    IN_APP = "in_app", _("In-app")
    WEB_FORM = "web_form", _("Web form")
    WALK_IN = "walk_in", _("Walk-in")


class Tag(models.Model):
    name = models.SlugField(_("name"), max_length=50, unique=True, allow_unicode=True)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


_OPEN = models.Q(status__in=OPEN_STATUSES)


class Ticket(models.Model):
    subject = models.CharField(_("subject"), max_length=255)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.P3)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    requester = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.L1)
    language = models.CharField(_("language"), max_length=10, default="en")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Since when the customer has been waiting on us: the oldest unanswered customer
    # message, or the last time we acted. Queues sort by it (oldest first).
    waiting_since = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    call_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Optimistic locking: every change increments it; an edit made against an older
    # version is refused with a conflict instead of silently overwriting.
    version = models.PositiveIntegerField(default=1)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_tickets"
    )
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    # SLA: the policy that applies and, over its running clocks (``sla.SLAClock``), the soonest
    # due and warning instants — kept in the same transaction as every change, so queues sort
    # and flag at-risk tickets with no per-row maths. Null when no clock is running.
    sla_policy = models.ForeignKey(
        "sla.SLAPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "waiting_since", "id"]
        indexes = [
            # Queues show open tickets (a few percent of all) in (priority, waiting_since, id)
            # order: partial indexes over open rows give each scope its order directly, so a
            # page is an index walk of 51 entries whatever the size of the history.
            models.Index(
                fields=["team", "priority", "waiting_since", "id"], name="ticket_open_team", condition=_OPEN
            ),
            models.Index(
                fields=["assignee", "priority", "waiting_since", "id"],
                name="ticket_open_assignee",
                condition=_OPEN,
            ),
            models.Index(
                fields=["team", "priority", "waiting_since", "id"],
                name="ticket_open_unassigned",
                condition=_OPEN & models.Q(assignee__isnull=True),
            ),
            models.Index(fields=["priority", "waiting_since", "id"], name="ticket_open_all", condition=_OPEN),
            # Any status (search, "closed" filters).
            models.Index(fields=["status", "priority", "waiting_since", "id"], name="ticket_status_queue"),
            models.Index(fields=["priority", "waiting_since", "id"], name="ticket_all_queue"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester"),
            # "SLA due soonest" order (nulls — no running clock — last), per queue scope.
            models.Index(fields=["sla_due_at", "id"], name="ticket_open_sla", condition=_OPEN),
            models.Index(fields=["team", "sla_due_at", "id"], name="ticket_open_team_sla", condition=_OPEN),
            models.Index(
                fields=["assignee", "sla_due_at", "id"], name="ticket_open_assignee_sla", condition=_OPEN
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> int:
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def priority_code(self) -> str:
        return f"P{self.priority}"


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer message")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System message")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    INTERNAL = "internal", _("Internal")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body_text = models.TextField(blank=True)
    # Sanitised with nh3 before it is stored; never raw input.
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"

    @property
    def is_internal(self) -> bool:
        return self.kind in (MessageKind.NOTE, MessageKind.SYSTEM)

    @property
    def author_name(self) -> str:
        if self.author_user_id:
            return str(self.author_user)
        if self.author_contact_id:
            return str(self.author_contact)
        return "Relaydesk"


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.ticket_id}/{filename}"


class Attachment(models.Model):
    # The ticket is kept beside the message so access is one join: an attachment is
    # only served to someone who may see its ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    # Email parts shown inside the message's HTML (``cid:``) rather than listed as files.
    content_id = models.CharField(max_length=255, blank=True)
    is_inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    ASSIGNEE = "assignee", _("Assignee changed")
    TEAM = "team", _("Team changed")
    LEVEL = "level", _("Level changed")
    TAGS = "tags", _("Tags changed")
    FIELD = "field", _("Field changed")
    MESSAGE = "message", _("Message added")
    MERGED = "merged", _("Merged")
    FOLLOW_UP = "follow_up", _("Follow-up opened")
    REOPENED = "reopened", _("Reopened")
    SLA = "sla", _("SLA warning or breach")


class TicketEvent(models.Model):
    """One change to a ticket: the timeline, the audit trail and the source of KPIs."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField(max_length=50, blank=True)
    old_value = models.CharField(max_length=255, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"


class SavedView(models.Model):
    """A named set of queue filters, private to its owner or shared with everyone."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=1000, help_text=_("Filter query string"))
    is_shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name")]

    def __str__(self) -> str:
        return self.name
