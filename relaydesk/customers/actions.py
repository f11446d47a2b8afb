"""Every change to contacts and organizations goes through here.

``do_*`` functions are trusted writes (channels call them for people who write in);
``check_*`` functions validate input and the acting user's permission, then call a ``do_*``.
Any active member of staff may create and edit contacts: answering customers needs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from relaydesk.accounts.models import User, validate_time_zone
from relaydesk.core.errors import PermissionDenied, ValidationFailed
from relaydesk.customers.access import access_contact
from relaydesk.customers.models import Contact, ContactEmail, Organization, Tier


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

MAX_NAME_LENGTH = 200
MAX_EMAILS = 20
# RFC 5321 limits a forward path to 256 octets, so 254 characters of address; the column matches.
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40
MAX_NOTES_LENGTH = 10_000
# At most ten characters, as the column.
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,6})?$", re.IGNORECASE)
DOMAIN_RE = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# --- validation helpers -------------------------------------------------------------------


def _check_staff(user: User) -> None:
    if not user.is_active:
        raise PermissionDenied("Your account is deactivated.")


def _no_nul(value: str, field: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValidationFailed("The text contains a NUL character.", field=field)
    return value


def clean_name(name: str, *, field: str = "name", max_length: int = MAX_NAME_LENGTH) -> str:
    cleaned = " ".join(_no_nul(name or "", field).split())
    if not cleaned:
        raise ValidationFailed("The name cannot be empty.", field=field)
    if len(cleaned) > max_length:
        raise ValidationFailed(f"The name is longer than {max_length} characters.", field=field)
    return cleaned


def clean_email(address: str, *, field: str = "emails") -> str:
    cleaned = (address or "").strip()
    if len(cleaned) > MAX_EMAIL_LENGTH:
        raise ValidationFailed(f"{cleaned[:40]}… is too long for an email address.", field=field)
    try:
        validate_email(cleaned)
    except ValidationError:
        raise ValidationFailed(f"{cleaned!r} is not a valid email address.", field=field) from None
    return cleaned


def clean_emails(addresses: Sequence[str]) -> list[str]:
    """Valid, de-duplicated (case-insensitively) addresses in the order given."""
    if isinstance(addresses, str):
        addresses = [addresses]
    if len(addresses) > MAX_EMAILS:
        raise ValidationFailed(f"A contact can have at most {MAX_EMAILS} email addresses.", field="emails")
    seen: set[str] = set()
    result = []
    for address in addresses:
        cleaned = clean_email(address)
        if cleaned.lower() not in seen:
            seen.add(cleaned.lower())
            result.append(cleaned)
    return result


def _check_emails_free(addresses: Sequence[str], *, contact: Contact | None = None) -> None:
    """Refuse addresses that already belong to another contact, naming that contact."""
    for address in addresses:
        taken = ContactEmail.objects.select_related("contact").filter(address__lower=address.lower())
        if contact is not None:
            taken = taken.exclude(contact=contact)
        owner = taken.first()
        if owner is not None:
            raise ValidationFailed(
                f"{address} already belongs to {owner.contact.name} (contact {owner.contact_id}).",
                field="emails",
            )


def clean_time_zone(value: str) -> str:
    try:
        validate_time_zone(value)
    except ValidationError:
        raise ValidationFailed(f"{value!r} is not a known time zone.", field="time_zone") from None
    return value


def clean_language(value: str) -> str:
    cleaned = (value or "").strip()
    if not LANGUAGE_RE.match(cleaned):
        raise ValidationFailed(
            f"{cleaned!r} is not a language code such as en, de or pt-BR.", field="language"
        )
    return cleaned


def clean_phone(value: str) -> str:
    cleaned = " ".join(_no_nul(value or "", "phone").split())
    if len(cleaned) > MAX_PHONE_LENGTH:
        raise ValidationFailed(
            f"The phone number is longer than {MAX_PHONE_LENGTH} characters.", field="phone"
        )
    return cleaned


def clean_notes(value: str) -> str:
    cleaned = _no_nul(value or "", "notes").strip()
    if len(cleaned) > MAX_NOTES_LENGTH:
        raise ValidationFailed(f"The notes are longer than {MAX_NOTES_LENGTH} characters.", field="notes")
    return cleaned


def clean_domain(value: str) -> str:
    cleaned = (value or "").strip().lower().lstrip("@")
    if cleaned and not DOMAIN_RE.match(cleaned):
        raise ValidationFailed(f"{cleaned!r} is not an email domain such as acme.com.", field="domain")
    return cleaned


def organization_for_email(address: str) -> Organization | None:
    """The organization whose email domain matches ``address`` (exactly, case-insensitively)."""
    domain = _domain(address) if "@" in address else ""
    return _organizations_by_domain({domain}).get(domain) if domain else None


def _email_conflict() -> ValidationFailed:
    # A concurrent request took the address between our check and our insert; the
    # case-insensitive unique constraint is the last word.
    return ValidationFailed("One of these email addresses was just taken by another contact.", field="emails")


# --- contacts -----------------------------------------------------------------------------


def do_create_contact(
    *,
    name: str,
    emails: Sequence[str],
    phone: str = "",
    language: str = "en",
    time_zone: str = "UTC",
    organization: Organization | None = None,
    notes: str = "",
) -> Contact:
    """Create a contact with its addresses (already cleaned and free); the first is primary.

    Call inside ``transaction.atomic``: the constraint on addresses may raise IntegrityError.
    """
    contact = Contact.objects.create(
        name=name,
        organization=organization,
        phone=phone,
        language=language,
        time_zone=time_zone,
        notes=notes,
    )
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(contact=contact, address=address, is_primary=index == 0)
            for index, address in enumerate(emails)
        ]
    )
    return contact


def check_create_contact(
    user: User,
    *,
    name: str,
    emails: list[str],
    phone: str = "",
    language: str = "en",
    time_zone: str = "UTC",
    organization: Organization | None = None,
    notes: str = "",
) -> Contact:
    """An agent adds a customer. Without an organization, the first email's domain picks one."""
    _check_staff(user)
    clean = clean_name(name)
    addresses = clean_emails(emails)
    phone = clean_phone(phone)
    if not addresses and not phone:
        raise ValidationFailed("Give at least an email address or a phone number.", field="emails")
    language = clean_language(language)
    time_zone = clean_time_zone(time_zone)
    notes = clean_notes(notes)
    _check_emails_free(addresses)
    if organization is None and addresses:
        organization = organization_for_email(addresses[0])
    try:
        with transaction.atomic():
            return do_create_contact(
                name=clean,
                emails=addresses,
                phone=phone,
                language=language,
                time_zone=time_zone,
                organization=organization,
                notes=notes,
            )
    except IntegrityError as exc:
        raise _email_conflict() from exc


def find_or_create_contact_by_email(email: str, *, name: str = "") -> Contact:
    """The contact owning ``email`` (case-insensitive), created if new. For channels: no acting user.

    Safe against a concurrent call for the same address: the loser of the insert race
    rolls back its savepoint and returns the winner's contact.
    """
    address = clean_email(email, field="email")
    return find_or_create_contacts_by_email([(address, name)])[address.lower()]


def find_or_create_contacts_by_email(wanted: Sequence[tuple[str, str]]) -> dict[str, Contact]:
    """Contacts for (cleaned address, name) pairs, keyed by lower-cased address; new ones created.

    One query finds the known addresses (with their organizations, which the SLA table reads);
    the new contacts are written in two statements. If another transaction creates one of
    them first, they are taken one at a time, each in its own savepoint, and the winner's
    contact is returned.
    """
    names: dict[str, tuple[str, str]] = {}
    for address, name in wanted:
        names.setdefault(address.lower(), (address, name))
    if not names:
        return {}
    found = {
        row.address.lower(): row.contact
        for row in ContactEmail.objects.select_related("contact__organization").filter(
            address__lower__in=list(names)
        )
    }
    missing = [names[key] for key in names if key not in found]
    if missing:
        organizations = _organizations_by_domain({_domain(address) for address, _ in missing})
        try:
            with transaction.atomic():
                found.update(_create_contacts_for(missing, organizations))
        except IntegrityError:
            for address, name in missing:
                found[address.lower()] = _find_or_create_one(address, name)
    return found


def _display_name(address: str, name: str) -> str:
    return " ".join((name or "").replace("\x00", "").split())[:MAX_NAME_LENGTH] or address.split("@", 1)[0]


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def _organizations_by_domain(domains: set[str]) -> dict[str, Organization]:
    """The organization of each email domain; the oldest when several share one."""
    found: dict[str, Organization] = {}
    # Domains are stored lower-cased (clean_domain), so a plain match uses the index.
    for organization in Organization.objects.filter(domain__in=domains).order_by("-id"):
        found[organization.domain] = organization  # later (older) rows overwrite newer ones
    return found


def _create_contacts_for(
    missing: Sequence[tuple[str, str]], organizations: dict[str, Organization]
) -> dict[str, Contact]:
    contacts = [
        Contact(name=_display_name(address, name), organization=organizations.get(_domain(address)))
        for address, name in missing
    ]
    Contact.objects.bulk_create(contacts)
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(contact=contact, address=address, is_primary=True)
            for contact, (address, _) in zip(contacts, missing, strict=True)
        ]
    )
    return {address.lower(): contact for contact, (address, _) in zip(contacts, missing, strict=True)}


def _find_or_create_one(address: str, name: str) -> Contact:
    existing = ContactEmail.objects.select_related("contact__organization").filter(
        address__lower=address.lower()
    )
    row = existing.first()
    if row is not None:
        return row.contact
    try:
        with transaction.atomic():
            return do_create_contact(
                name=_display_name(address, name),
                emails=[address],
                organization=organization_for_email(address),
            )
    except IntegrityError:
        return existing.get().contact


def do_set_contact_emails(contact: Contact, addresses: Sequence[str]) -> None:
    """Replace the addresses of ``contact`` (locked); the first is primary.

    Rows for addresses kept are updated, not recreated, so the unique constraint never
    sees the same address twice.
    """
    current = {row.address.lower(): row for row in contact.emails.all()}
    wanted = {address.lower(): address for address in addresses}
    contact.emails.exclude(pk__in=[row.pk for key, row in current.items() if key in wanted]).delete()
    primary_key = addresses[0].lower() if addresses else None
    for key, address in wanted.items():
        row = current.get(key)
        if row is None:
            ContactEmail.objects.create(contact=contact, address=address, is_primary=key == primary_key)
        elif row.is_primary != (key == primary_key) or row.address != address:
            row.is_primary = key == primary_key
            row.address = address
            row.save(update_fields=["is_primary", "address"])


def check_update_contact(
    user: User,
    contact_id: int,
    *,
    name: str = UNSET,
    emails: list[str] = UNSET,
    phone: str = UNSET,
    language: str = UNSET,
    time_zone: str = UNSET,
    organization: Organization | None = UNSET,
    notes: str = UNSET,
) -> Contact:
    """Change the given fields of a contact; omitted fields stay as they are.

    ``emails`` replaces the whole list (first is primary). Existing tickets keep the
    organization they were opened under.
    """
    _check_staff(user)
    changes: dict[str, Any] = {}
    if name is not UNSET:
        changes["name"] = clean_name(name)
    if phone is not UNSET:
        changes["phone"] = clean_phone(phone)
    if language is not UNSET:
        changes["language"] = clean_language(language)
    if time_zone is not UNSET:
        changes["time_zone"] = clean_time_zone(time_zone)
    if notes is not UNSET:
        changes["notes"] = clean_notes(notes)
    if organization is not UNSET:
        changes["organization"] = organization
    addresses = clean_emails(emails) if emails is not UNSET else None
    try:
        with transaction.atomic():
            contact = access_contact(user, contact_id, for_update=True)
            if addresses is not None:
                phone_after = changes.get("phone", contact.phone)
                if not addresses and not phone_after:
                    raise ValidationFailed(
                        "Keep at least an email address or a phone number.", field="emails"
                    )
                _check_emails_free(addresses, contact=contact)
                do_set_contact_emails(contact, addresses)
            for field_name, value in changes.items():
                setattr(contact, field_name, value)
            if changes:
                contact.save(update_fields=list(changes))
    except IntegrityError as exc:
        raise _email_conflict() from exc
    return contact


# --- organizations ------------------------------------------------------------------------


def check_create_organization(
    user: User, *, name: str, domain: str = "", tier: str = Tier.STANDARD, notes: str = ""
) -> Organization:
    """Add a customer organization. A domain may belong to one organization only, so that
    matching a new contact's email to its organization is never ambiguous."""
    _check_staff(user)
    clean = clean_name(name)
    domain = clean_domain(domain)
    if tier not in Tier.values:
        raise ValidationFailed(f"Unknown tier {tier!r}.", field="tier")
    notes = clean_notes(notes)
    if Organization.objects.filter(name__iexact=clean).exists():
        raise ValidationFailed(f"An organization called {clean} already exists.", field="name")
    if domain and Organization.objects.filter(domain__iexact=domain).exists():
        raise ValidationFailed(f"{domain} already belongs to another organization.", field="domain")
    try:
        with transaction.atomic():
            return Organization.objects.create(name=clean, domain=domain, tier=tier, notes=notes)
    except IntegrityError as exc:
        raise ValidationFailed(f"An organization called {clean} already exists.", field="name") from exc
