"""Contacts and organizations over the API. Thin: parse, call an action or a query, shape the output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from relaydesk.api.auth import acting_user
from relaydesk.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Cursor,
    EmailText,
    Id,
    InputSchema,
    LanguageCode,
    LongText,
    Ref,
    ShortText,
    TimeZoneName,
)
from relaydesk.core.errors import NotFound, ValidationFailed
from relaydesk.customers.access import access_contact, access_organization
from relaydesk.customers.actions import check_create_contact, check_create_organization, check_update_contact
from relaydesk.customers.models import Contact, Organization
from relaydesk.customers.queries import MAX_PAGE_SIZE, contact_page, organization_page

router = Router(tags=["customers"])

Emails = Annotated[list[EmailText], Field(max_length=20, description="The first one is the primary address.")]
Notes = Annotated[LongText, Field(max_length=10_000)]
TierName = Literal["standard", "business", "enterprise"]


# --- output -------------------------------------------------------------------------------


class ContactEmailOut(Schema):
    address: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    name: str
    email: str = Field(description="The primary address, or empty.")
    emails: list[ContactEmailOut]
    phone: str
    language: str
    time_zone: str
    organization: Ref | None
    notes: str
    created_at: datetime

    @staticmethod
    def resolve_email(contact: Contact) -> str:
        return contact.primary_email

    @staticmethod
    def resolve_emails(contact: Contact) -> list[Any]:
        return list(contact.emails.all())


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class OrganizationOut(Schema):
    id: int
    name: str
    domain: str
    tier: str
    notes: str
    created_at: datetime


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


# --- input --------------------------------------------------------------------------------


class ContactCreateIn(InputSchema):
    name: ShortText
    emails: Emails = []
    phone: ShortText = ""
    language: LanguageCode = "en"
    time_zone: TimeZoneName = "UTC"
    organization_id: Id | None = Field(
        None, description="Defaults to the organization owning the email domain."
    )
    notes: Notes = ""


class ContactPatchIn(InputSchema):
    """Only the fields sent are changed; ``emails`` replaces the list; ``organization_id: null`` clears it."""

    name: ShortText | None = None
    emails: Emails | None = None
    phone: ShortText | None = None
    language: LanguageCode | None = None
    time_zone: TimeZoneName | None = None
    organization_id: Id | None = None
    notes: Notes | None = None

    @field_validator("name", "emails", "phone", "language", "time_zone", "notes", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class OrganizationCreateIn(InputSchema):
    name: ShortText
    domain: ShortText = Field("", description="Email domain; new contacts with it join this organization.")
    tier: TierName = "standard"
    notes: Notes = ""


class SearchParams(Schema):
    q: ShortText = Field(
        "", description="Text in the name or an email address (the domain for organizations)."
    )
    cursor: Cursor | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def _organization(user: Any, organization_id: int) -> Organization:
    try:
        return access_organization(user, organization_id)
    except NotFound as exc:
        raise ValidationFailed(exc.message, field="organization_id") from None


# --- endpoints ----------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, **READ_ERRORS})
def list_contacts(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    page = contact_page(acting_user(request), text=params.q, cursor=params.cursor, limit=params.limit)
    return {"items": page.contacts, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS})
def create_contact(request: HttpRequest, payload: ContactCreateIn) -> Status[Contact]:
    user = acting_user(request)
    contact = check_create_contact(
        user,
        name=payload.name,
        emails=payload.emails,
        phone=payload.phone,
        language=payload.language,
        time_zone=payload.time_zone,
        organization=_organization(user, payload.organization_id) if payload.organization_id else None,
        notes=payload.notes,
    )
    return Status(201, access_contact(user, contact.pk))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **READ_ERRORS})
def get_contact(request: HttpRequest, contact_id: Id) -> Contact:
    return access_contact(acting_user(request), contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatchIn) -> Contact:
    user = acting_user(request)
    changes = payload.dict(exclude_unset=True)
    if "organization_id" in changes:
        organization_id = changes.pop("organization_id")
        changes["organization"] = _organization(user, organization_id) if organization_id else None
    check_update_contact(user, contact_id, **changes)
    return access_contact(user, contact_id)


@router.get("/organizations", response={200: OrganizationPage, **READ_ERRORS})
def list_organizations(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    page = organization_page(acting_user(request), text=params.q, cursor=params.cursor, limit=params.limit)
    return {"items": page.organizations, "next_cursor": page.next_cursor}


@router.post("/organizations", response={201: OrganizationOut, **WRITE_ERRORS})
def create_organization(request: HttpRequest, payload: OrganizationCreateIn) -> Status[Organization]:
    organization = check_create_organization(
        acting_user(request), name=payload.name, domain=payload.domain, tier=payload.tier, notes=payload.notes
    )
    return Status(201, organization)


@router.get("/organizations/{organization_id}", response={200: OrganizationOut, **READ_ERRORS})
def get_organization(request: HttpRequest, organization_id: Id) -> Organization:
    return access_organization(acting_user(request), organization_id)
