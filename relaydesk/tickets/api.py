"""Tickets and their messages over the API. Thin: parse, call an action or a query, shape the output.

Every ticket is read through ``access_ticket`` / ``filter_tickets`` (scoped to the caller)
and changed through ``tickets.actions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.http import FileResponse, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from relaydesk.accounts.models import Team, User
from relaydesk.api.auth import acting_user
from relaydesk.api.errors import fields_renamed
from relaydesk.api.pagination import timeline_page
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
    SubjectText,
    TagName,
)
from relaydesk.core.errors import NotFound, RelaydeskError, ValidationFailed
from relaydesk.core.group_commit import GroupCommit
from relaydesk.customers.access import access_contact
from relaydesk.customers.models import Contact
from relaydesk.tickets.access import access_attachment, access_ticket
from relaydesk.tickets.actions import (
    UNSET,
    EmailRequester,
    NewTicket,
    check_add_message,
    check_change_ticket,
    check_new_ticket,
    do_create_tickets,
)
from relaydesk.tickets.models import Category, Message, Product, Ticket
from relaydesk.tickets.queries import MAX_PAGE_SIZE, filter_tickets, paginate, parse_filters

router = Router(tags=["tickets"])

# What a ticket in the API shows, loaded with the ticket (joins) or in one query per
# relation for a whole page (prefetch): the number of queries never grows with the page.
# PostgreSQL's planning time grows steeply with each join (4 joins: ~1 ms, 6: ~7 ms, more
# than running the query); categories and products are tiny tables, so they are prefetched.
TICKET_JOINS = ("requester", "organization", "team", "assignee")
TICKET_PREFETCH = ("tags", "requester__emails", "category", "product")

# The choices, spelt out so the OpenAPI schema lists them; a test keeps them equal to the models'.
StatusName = Literal[
    "new", "assigned", "in_progress", "pending_customer", "pending_internal", "resolved", "closed"
]
ChannelName = Literal["email", "chat", "phone", "social", "in_app", "web_form", "walk_in"]
LevelName = Literal["l1", "l2", "specialist"]
PriorityNumber = Annotated[int, Field(ge=1, le=4, description="1 urgent outage … 4 low")]
CallSeconds = Annotated[int, Field(ge=0, le=24 * 3600)]
Tags = Annotated[list[TagName], Field(max_length=20)]


# The body's names for the fields actions name after the model.
BODY_FIELD_NAMES = {
    "team": "team_id",
    "assignee": "assignee_id",
    "category": "category_id",
    "product": "product_id",
}


# --- output -------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    email: str


class TicketOut(Schema):
    number: int
    subject: str
    status: str
    priority: int
    channel: str
    requester: PersonOut
    organization: Ref | None
    team: Ref | None
    assignee: PersonOut | None
    level: str
    language: str
    tags: list[str]
    category: Ref | None
    product: Ref | None
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    sla_due_at: datetime | None = Field(description="The soonest due instant of the running SLA clocks.")
    closed_at: datetime | None
    reopen_count: int
    version: int
    merged_into: int | None
    follow_up_of: int | None
    call_duration_seconds: int | None

    @staticmethod
    def resolve_requester(ticket: Ticket) -> dict[str, Any]:
        contact = ticket.requester
        return {"id": contact.pk, "name": contact.name, "email": contact.primary_email}

    @staticmethod
    def resolve_assignee(ticket: Ticket) -> dict[str, Any] | None:
        user = ticket.assignee
        return None if user is None else {"id": user.pk, "name": user.full_name, "email": user.email}

    @staticmethod
    def resolve_tags(ticket: Ticket) -> list[str]:
        return sorted(tag.name for tag in ticket.tags.all())

    # The ids, not the related tickets: reading them must not cost a query each.
    @staticmethod
    def resolve_merged_into(ticket: Ticket) -> int | None:
        return ticket.merged_into_id

    @staticmethod
    def resolve_follow_up_of(ticket: Ticket) -> int | None:
        return ticket.follow_up_of_id


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str

    @staticmethod
    def resolve_url(attachment: Any) -> str:
        return f"/api/v1/attachments/{attachment.pk}"


class AuthorOut(Schema):
    type: Literal["user", "contact", "system"]
    id: int | None
    name: str


class MessageOut(Schema):
    id: int
    ticket: int
    kind: str
    direction: str
    author: AuthorOut
    body_text: str
    body_html: str
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_ticket(message: Message) -> int:
        return message.ticket_id

    @staticmethod
    def resolve_author(message: Message) -> dict[str, Any]:
        if message.author_user_id:
            return {"type": "user", "id": message.author_user_id, "name": message.author_name}
        if message.author_contact_id:
            return {"type": "contact", "id": message.author_contact_id, "name": message.author_name}
        return {"type": "system", "id": None, "name": message.author_name}

    @staticmethod
    def resolve_attachments(message: Message) -> list[Any]:
        return list(message.attachments.all())


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


# --- input --------------------------------------------------------------------------------


class TicketCreateIn(InputSchema):
    subject: SubjectText
    body: LongText = ""
    body_html: LongText = ""
    requester_id: Id | None = Field(None, description="An existing contact; or give requester_email.")
    requester_email: EmailText | None = Field(None, description="Found or created as a contact.")
    requester_name: ShortText = Field("", description="Name for a contact created from requester_email.")
    channel: ChannelName = "phone"
    priority: PriorityNumber = 3
    team_id: Id | None = Field(None, description="Defaults to the caller's first team.")
    assignee_id: Id | None = None
    tags: Tags = []
    language: LanguageCode | None = Field(None, description="Defaults to the requester's language.")
    category_id: Id | None = None
    product_id: Id | None = None
    call_duration_seconds: CallSeconds | None = None


MAX_BULK_CREATE = 100


class TicketBulkCreateIn(InputSchema):
    tickets: list[TicketCreateIn] = Field(min_length=1, max_length=MAX_BULK_CREATE)


class TicketBulkOut(Schema):
    tickets: list[TicketOut]


class TicketPatchIn(InputSchema):
    """Only the fields sent are changed. ``null`` clears assignee, team, category and product."""

    status: StatusName | None = None
    priority: PriorityNumber | None = None
    channel: ChannelName | None = Field(None, description="Changing it re-applies the SLA table.")
    assignee_id: Id | None = None
    team_id: Id | None = None
    level: LevelName | None = None
    tags: Tags | None = Field(None, description="Replaces all tags.")
    add_tags: Tags | None = None
    remove_tags: Tags | None = None
    subject: SubjectText | None = None
    language: LanguageCode | None = None
    category_id: Id | None = None
    product_id: Id | None = None
    version: Id | None = Field(
        None, description="The version you edited; if the ticket changed since, the answer is 409."
    )

    @field_validator(
        "status", "priority", "level", "tags", "add_tags", "remove_tags", "subject", "language", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # None is the "not sent" default; an explicit null only makes sense for relations.
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class MessageCreateIn(InputSchema):
    kind: Literal["reply", "note"]
    body: LongText = ""
    body_html: LongText = ""
    status: StatusName | None = Field(None, description="Move the ticket to this status as well.")


class TicketListParams(Schema):
    """Queue filters; list filters take repeated parameters or commas (``status=new,assigned``)."""

    status: list[ShortText] = []
    priority: list[ShortText] = []
    channel: list[ShortText] = []
    team: list[ShortText] = Field([], description="Team ids.")
    assignee: list[ShortText] = Field([], description='User ids, or "none" for unassigned.')
    tag: list[ShortText] = []
    language: list[ShortText] = []
    requester: ShortText = Field("", description="A contact id.")
    organization: ShortText = Field("", description="An organization id.")
    q: ShortText = Field("", description="Text in the subject, or a ticket number.")
    closed: bool = Field(False, description="Include resolved and closed tickets.")
    scope: Literal["mine", "unassigned", "all"] = "all"
    sla: Literal["", "at_risk", "breached"] = Field("", description="Only tickets at risk of or past an SLA.")
    sort: Literal["", "sla"] = Field(
        "", description='"" queue order (P1 first, longest waiting); "sla" due soonest.'
    )
    cursor: Cursor | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class PageParams(Schema):
    cursor: Cursor | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


# --- references in request bodies ---------------------------------------------------------
# A missing or unusable referenced object is a mistake in the body (422 naming the field),
# not a missing resource (404).


def _team(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id, is_active=True).first()
    if team is None:
        raise ValidationFailed(f"There is no active team {team_id}.", field="team_id")
    return team


def _assignee(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed(f"There is no active user {user_id}.", field="assignee_id")
    return user


def _category(category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id, is_active=True).first()
    if category is None:
        raise ValidationFailed(f"There is no active category {category_id}.", field="category_id")
    return category


def _product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ValidationFailed(f"There is no active product {product_id}.", field="product_id")
    return product


def _requester(user: User, payload: TicketCreateIn) -> Contact | EmailRequester:
    if (payload.requester_id is None) == (payload.requester_email is None):
        raise ValidationFailed("Give either requester_id or requester_email.", field="requester_id")
    if payload.requester_id is not None:
        try:
            return access_contact(user, payload.requester_id)
        except NotFound as exc:
            raise ValidationFailed(exc.message, field="requester_id") from None
    assert payload.requester_email is not None
    return EmailRequester(payload.requester_email, payload.requester_name)


def _loaded(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return queryset.select_related(*TICKET_JOINS).prefetch_related(*TICKET_PREFETCH)


def _ticket_for_output(ticket_id: int) -> Ticket:
    # Right after a write the caller may have moved the ticket out of their own sight
    # (another team): they still get the result of what they did.
    return _loaded(Ticket.objects.all()).get(pk=ticket_id)


# --- endpoints ----------------------------------------------------------------------------


@router.get("/tickets", response={200: TicketPage, **READ_ERRORS})
def list_tickets(request: HttpRequest, params: Query[TicketListParams]) -> dict[str, Any]:
    """The caller's queue a page at a time: P1 first then longest waiting, or SLA due soonest."""
    user = acting_user(request)
    filters = parse_filters(request.GET, scope=params.scope)
    page = paginate(
        _loaded(filter_tickets(user, filters)), cursor=params.cursor, limit=params.limit, sort=filters.sort
    )
    return {"items": page.tickets, "next_cursor": page.next_cursor}


def _open_together(batch: Sequence[NewTicket]) -> list[Ticket]:
    with transaction.atomic():
        tickets = [opened.ticket for opened in do_create_tickets(batch)]
    # Answer from the objects in hand, with what the output needs read once for the whole batch.
    prefetch_related_objects(tickets, *TICKET_PREFETCH)
    return tickets


# Tickets created through the API at the same moment are written together (see core.group_commit).
create_batches: GroupCommit[NewTicket, Ticket] = GroupCommit(_open_together)


@router.post("/tickets", response={201: TicketOut, **WRITE_ERRORS})
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Status[Ticket]:
    """Open a ticket on a customer's behalf, with its first message."""
    new = _check_new(acting_user(request), payload)
    return Status(201, create_batches.submit(new))


@router.post("/tickets/bulk", response={201: TicketBulkOut, **WRITE_ERRORS})
def create_tickets(request: HttpRequest, payload: TicketBulkCreateIn) -> Status[dict[str, list[Ticket]]]:
    """Open up to 100 tickets at once (an import, a batch from another system): all of them or none.

    Each is validated as ``POST /tickets`` validates one; an error names the ticket by its place
    in the list (``tickets.3.requester_email``) and nothing is created. The answer lists the
    tickets in the order sent.
    """
    user = acting_user(request)
    new = []
    for index, item in enumerate(payload.tickets):
        try:
            new.append(_check_new(user, item))
        except RelaydeskError as exc:
            if exc.field:  # errors without a field concern the whole request (the caller's account)
                exc.field = f"tickets.{index}.{exc.field}"
            raise
    return Status(201, {"tickets": _open_together(new)})


def _check_new(user: User, payload: TicketCreateIn) -> NewTicket:
    with fields_renamed(BODY_FIELD_NAMES):
        return check_new_ticket(
            user,
            subject=payload.subject,
            requester=_requester(user, payload),
            body_text=payload.body,
            body_html=payload.body_html,
            channel=payload.channel,
            priority=payload.priority,
            team=_team(payload.team_id) if payload.team_id is not None else None,
            assignee=_assignee(payload.assignee_id) if payload.assignee_id is not None else None,
            tags=payload.tags,
            language=payload.language,
            category=_category(payload.category_id) if payload.category_id is not None else None,
            product=_product(payload.product_id) if payload.product_id is not None else None,
            call_duration_seconds=payload.call_duration_seconds,
        )


@router.get("/tickets/{number}", response={200: TicketOut, **READ_ERRORS})
def get_ticket(request: HttpRequest, number: Id) -> Ticket:
    ticket = access_ticket(acting_user(request), number)
    prefetch_related_objects([ticket], *TICKET_PREFETCH)
    return ticket


@router.patch("/tickets/{number}", response={200: TicketOut, **WRITE_ERRORS})
def change_ticket(request: HttpRequest, number: Id, payload: TicketPatchIn) -> Ticket:
    """Change fields; send ``version`` to refuse the change if someone else changed the ticket first."""
    user = acting_user(request)
    sent = payload.model_fields_set
    resolvers = {"team_id": _team, "assignee_id": _assignee, "category_id": _category, "product_id": _product}
    changes: dict[str, Any] = {}
    for name, resolve in resolvers.items():
        if name in sent:
            value = getattr(payload, name)
            changes[name.removesuffix("_id")] = None if value is None else resolve(value)
    simple = (
        "status",
        "priority",
        "channel",
        "level",
        "tags",
        "add_tags",
        "remove_tags",
        "subject",
        "language",
    )
    for name in simple:
        changes[name] = getattr(payload, name) if name in sent else UNSET
    with fields_renamed(BODY_FIELD_NAMES):
        ticket, _changed = check_change_ticket(user, number, expected_version=payload.version, **changes)
    return _ticket_for_output(ticket.pk)


@router.get("/tickets/{number}/messages", response={200: MessagePage, **READ_ERRORS})
def list_messages(request: HttpRequest, number: Id, params: Query[PageParams]) -> dict[str, Any]:
    """Customer messages, replies and internal notes, oldest first, with attachment metadata."""
    ticket = access_ticket(acting_user(request), number)
    messages = ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments")
    page = timeline_page(messages, cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tickets/{number}/messages", response={201: MessageOut, **WRITE_ERRORS})
def add_message(request: HttpRequest, number: Id, payload: MessageCreateIn) -> Status[Message]:
    """A public reply (sent to the customer) or an internal note, optionally changing the status."""
    message = check_add_message(
        acting_user(request),
        number,
        kind=payload.kind,
        body_text=payload.body,
        body_html=payload.body_html,
        new_status=payload.status,
    )
    loaded = (
        Message.objects.select_related("author_user", "author_contact")
        .prefetch_related("attachments")
        .get(pk=message.pk)
    )
    return Status(201, loaded)


@router.get("/attachments/{attachment_id}", response=READ_ERRORS)
def download_attachment(request: HttpRequest, attachment_id: Id) -> FileResponse:
    """The file, for whoever may see its ticket."""
    attachment = access_attachment(acting_user(request), attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
