"""The email channel's storage: mailboxes, every inbound message as received, the outbox.

Inbound mail is stored raw first (``InboundEmail``), before anything is parsed, with a unique key
that makes a second delivery of the same message a no-op; processing it is a separate step whose
failure leaves the row quarantined with its error, never lost. Outbound mail is written to the
outbox (``OutboundEmail``) in the same transaction as the reply it carries and sent by the worker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import Team


class Security(models.TextChoices):
    TLS = "tls", _("TLS (IMAPS 993 / SMTPS 465)")
    STARTTLS = "starttls", _("STARTTLS (143 / 587)")
    NONE = "none", _("None (trusted network only)")


class Mailbox(models.Model):
    """An address customers write to (support@, billing@, a language's address)."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    display_name = models.CharField(
        _("sender name"),
        max_length=100,
        blank=True,
        help_text=_('Shown to customers, e.g. "Northwind Support"'),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default team"),
    )
    language = models.CharField(_("default language"), max_length=10, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    send_acknowledgement = models.BooleanField(_("acknowledge new tickets"), default=True)

    imap_host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    imap_username = models.CharField(_("IMAP user"), max_length=255, blank=True)
    imap_password_encrypted = models.TextField(blank=True)
    imap_folder = models.CharField(_("folder to read"), max_length=255, default="INBOX")
    imap_done_folder = models.CharField(
        _("move read mail to"), max_length=255, blank=True, help_text=_("Empty: mark it read and leave it")
    )

    smtp_host = models.CharField(_("SMTP server"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True)

    # The inbound webhook's secret, stored as its SHA-256 (shown once when generated).
    webhook_secret_hash = models.CharField(max_length=64, blank=True)

    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def polls_imap(self) -> bool:
        return bool(self.is_active and self.imap_host and self.imap_username)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not processed yet")
    PROCESSED = "processed", _("Added to a ticket")
    IGNORED = "ignored", _("Ignored (automatic mail)")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP")
    WEBHOOK = "webhook", _("Webhook")
    COMMAND = "command", _("ingest-mail command")


class InboundEmail(models.Model):
    """One message exactly as it arrived. ``dedupe_key`` = mailbox + normalised Message-ID, or the
    SHA-256 of the raw bytes when it has none: a second delivery of the same mail is a no-op."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, null=True, blank=True, related_name="inbound"
    )
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    dedupe_key = models.CharField(max_length=300, unique=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    header_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    from_address = models.CharField(max_length=255, blank=True)
    # Where answers go (Reply-To, else From), as parsed when processed.
    reply_to = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    # Why it was quarantined or ignored, in words an admin understands.
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    message = models.OneToOneField(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_email"
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.header_message_id or self.dedupe_key} ({self.status})"


class MessageHeader(models.Model):
    """The email identity of a ticket message, for threading and for the quoted history.

    Inbound messages keep their own Message-ID; outbound replies the one Relaydesk gave them.
    Replies that reference any of these ids thread into ``ticket``.
    """

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE, related_name="email_header")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    header_message_id = models.CharField(max_length=255, db_index=True)
    # What the conversation folds away: the quoted history and signature of an inbound reply.
    quoted_text = models.TextField(blank=True)
    quoted_html = models.TextField(blank=True)
    # The original HTML as sent (sanitised), shown in a sandboxed frame.
    original_html = models.TextField(blank=True)
    has_remote_images = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.header_message_id


class Follower(models.Model):
    """Someone copied on a ticket's emails (from the customer's Cc, or added by an agent)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="followers")
    address = models.EmailField()
    name = models.CharField(max_length=255, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                "ticket", models.functions.Lower("address"), name="follower_unique_address"
            )
        ]

    def __str__(self) -> str:
        return self.address


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("Agent reply")
    ACKNOWLEDGEMENT = "ack", _("Acknowledgement")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held by the circuit breaker")


class OutboundEmail(models.Model):
    """The transactional outbox: a mail to send, written with the reply it carries.

    The worker claims a row by moving it to SENDING with a lease (``next_attempt_at``); a worker
    killed mid-send leaves the lease to expire and the row is sent again. The Message-ID is fixed
    when the row is written, so a resend after a crash is the same message to the receiving side.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="outbound_emails")
    message = models.ForeignKey(
        "tickets.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="outbound_emails"
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=10, choices=OutboundKind.choices, default=OutboundKind.REPLY)
    to = models.JSONField(default=list)  # ["Name <address>", …], already validated
    cc = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    header_message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbound_due",
                condition=models.Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["ticket", "created_at"], name="outbound_ticket_time"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.status})"


class AcknowledgementTemplate(models.Model):
    """The automatic answer to a new email ticket, per language (``{number}``, ``{subject}``,
    ``{name}`` are replaced; the subject may not contain line breaks)."""

    language = models.CharField(_("language"), max_length=10, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["language"]

    def __str__(self) -> str:
        return self.language
