"""Customers: contacts (the people who write in) and their organizations."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import validate_time_zone


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    BUSINESS = "business", _("Business")
    ENTERPRISE = "enterprise", _("Enterprise")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    domain = models.CharField(_("email domain"), max_length=200, blank=True, db_index=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_email(self) -> str:
        # Uses the prefetch cache when present.
        emails = list(self.emails.all())
        for email in emails:
            if email.is_primary:
                return email.address
        return emails[0].address if emails else ""


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("address"))
    is_primary = models.BooleanField(default=False)
    # Set when mail to this address bounced (a delivery status report came back).
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-is_primary", "address"]
        constraints = [models.UniqueConstraint(Lower("address"), name="contact_email_ci_unique")]

    def __str__(self) -> str:
        return self.address
