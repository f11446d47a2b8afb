"""The ticket page: conversation, composer, properties, customer, timeline; and its htmx actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.accounts.models import Level, Team, User
from relaydesk.core.errors import NotFound, RelaydeskError
from relaydesk.core.parsing import parse_id
from relaydesk.mail.models import OutboundEmail
from relaydesk.sla.display import clock_views
from relaydesk.tickets.access import access_ticket
from relaydesk.tickets.actions import (
    UNSET,
    check_add_message,
    check_change_ticket,
    check_merge_ticket,
    mention_handle,
)
from relaydesk.tickets.forms import ComposerForm, TicketPropertiesForm, uploaded_attachments
from relaydesk.tickets.models import Attachment, Category, Channel, Priority, Product, Status, Ticket
from relaydesk.tickets.queries import requester_other_tickets
from relaydesk.tickets.timeline import describe_event, event_actor
from relaydesk.web.htmx import acting_user, is_htmx, staff_required

TIMELINE_LIMIT = 200


def _load(user: User, ticket_id: int) -> Ticket:
    try:
        return access_ticket(user, ticket_id)
    except NotFound:
        raise Http404 from None


def _properties_form(ticket: Ticket, data: Any = None) -> TicketPropertiesForm:
    initial = {
        "version": ticket.version,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "level": ticket.level,
        "tags": ", ".join(tag.name for tag in ticket.tags.all()),
        "category": ticket.category_id,
        "product": ticket.product_id,
    }
    return TicketPropertiesForm(data, initial=initial)


def _property_fields(form: TicketPropertiesForm) -> list[dict[str, Any]]:
    """The properties form as plain (name, label, choices, selected) rows.

    Django's Select widget renders every <option> through a template; with every agent in
    the assignee list that was half of the ticket page's time. The form still validates.
    """
    people = list(User.objects.filter(is_active=True).order_by("full_name").values_list("id", "full_name"))
    choices: dict[str, list[tuple[Any, Any]]] = {
        "status": list(Status.choices),
        "priority": list(Priority.choices),
        "channel": list(Channel.choices),
        "assignee": [("", _("— Unassigned —")), *people],
        "team": [("", _("— No team —")), *Team.objects.filter(is_active=True).values_list("id", "name")],
        "level": list(Level.choices),
        "category": [("", _("— None —")), *Category.objects.filter(is_active=True).values_list("id", "name")],
        "product": [("", _("— None —")), *Product.objects.filter(is_active=True).values_list("id", "name")],
    }
    rows = []
    for name in ("status", "priority", "channel", "assignee", "team", "level", "category", "product", "tags"):
        bound = form[name]
        value = bound.value()
        rows.append(
            {
                "name": name,
                "id": bound.id_for_label,
                "label": bound.label,
                "choices": choices.get(name),
                "value": "" if value is None else value,
                "errors": bound.errors,
            }
        )
    return rows


def _context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    props_form: TicketPropertiesForm | None = None,
    composer: ComposerForm | None = None,
    composer_mode: str = "reply",
    props_error: str = "",
    composer_error: str = "",
) -> dict[str, Any]:
    user = acting_user(request)
    props_form = props_form or _properties_form(ticket)
    thread = (
        ticket.messages.select_related("author_user", "author_contact", "email_header", "inbound_email")
        .defer("inbound_email__raw")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.only("id", "message_id", "filename", "size", "is_inline"),
            ),
            # Delivery of public replies by email: sent, queued, held or failed, shown on the reply.
            Prefetch(
                "outbound_emails",
                queryset=OutboundEmail.objects.only(
                    "id", "message_id", "status", "to", "last_error", "sent_at"
                ),
            ),
        )
    )
    events = list(ticket.events.select_related("actor").order_by("-created_at", "-id")[:TIMELINE_LIMIT])
    return {
        "ticket": ticket,
        "thread": thread,
        "timeline": [(event, event_actor(event), describe_event(event)) for event in events],
        "props_form": props_form,
        "props_fields": _property_fields(props_form),
        "props_error": props_error,
        "composer": composer or ComposerForm(),
        "composer_mode": composer_mode,
        "composer_error": composer_error,
        "requester_emails": list(ticket.requester.emails.all()),
        "other_tickets": requester_other_tickets(user, ticket),
        "sla_clocks": clock_views(ticket, now=timezone.now(), viewer_time_zone=user.time_zone),
        "nav_active": "ticket",
        "statuses": Status,
        "mentionable": [
            (mention_handle(person), person.full_name)
            for person in User.objects.filter(is_active=True).exclude(pk=user.pk).only("email", "full_name")
        ],
    }


def _respond(request: HttpRequest, ticket: Ticket, *, status: int = 200, **extra: Any) -> HttpResponse:
    # Re-read the ticket so the page shows the saved state (new version, new status).
    fresh = _load(acting_user(request), ticket.pk)
    context = _context(request, fresh, **extra)
    template = "tickets/_ticket_page.html" if is_htmx(request) else "tickets/ticket.html"
    return render(request, template, context, status=status)


@staff_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _load(acting_user(request), ticket_id)
    return render(request, "tickets/ticket.html", _context(request, ticket))


@staff_required
@require_POST
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = acting_user(request)
    ticket = _load(user, ticket_id)
    form = _properties_form(ticket, request.POST)
    if not form.is_valid():
        return _respond(
            request, ticket, status=422, props_form=form, props_error=_("Check the highlighted fields.")
        )
    data = form.cleaned_data
    try:
        check_change_ticket(
            user,
            ticket.pk,
            expected_version=data["version"],
            status=data["status"],
            priority=data["priority"],
            channel=data["channel"] or UNSET,
            assignee=data["assignee"],
            team=data["team"],
            level=data["level"],
            tags=data["tags"],
            category=data["category"],
            product=data["product"],
        )
    except RelaydeskError as exc:
        return _respond(request, ticket, status=exc.status_code, props_form=form, props_error=exc.message)
    messages.success(request, _("Ticket #%(number)d saved.") % {"number": ticket.pk})
    return _respond(request, ticket)


def _quick_change(request: HttpRequest, ticket_id: int, **changes: Any) -> HttpResponse:
    user = acting_user(request)
    ticket = _load(user, ticket_id)
    version = request.POST.get("version")
    try:
        check_change_ticket(
            user,
            ticket.pk,
            expected_version=parse_id(version),
            **changes,
        )
    except RelaydeskError as exc:
        return _respond(request, ticket, status=exc.status_code, props_error=exc.message)
    return _respond(request, ticket)


@staff_required
@require_POST
def assign_to_me(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _quick_change(request, ticket_id, assignee=acting_user(request))


@staff_required
@require_POST
def resolve(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _quick_change(request, ticket_id, status=Status.RESOLVED)


@staff_required
@require_POST
def add_message(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = acting_user(request)
    ticket = _load(user, ticket_id)
    form = ComposerForm(request.POST)
    mode = request.POST.get("kind") if request.POST.get("kind") in ("reply", "note") else "reply"
    if not form.is_valid():
        return _respond(
            request,
            ticket,
            status=422,
            composer=form,
            composer_mode=mode,
            composer_error=_("Write something before sending."),
        )
    attachments = uploaded_attachments(request.FILES)
    try:
        check_add_message(
            user,
            ticket.pk,
            kind=form.cleaned_data["kind"],
            body_text=form.cleaned_data["body"],
            attachments=attachments,
            new_status=form.cleaned_data["then_status"] or None,
        )
    except RelaydeskError as exc:
        return _respond(
            request,
            ticket,
            status=exc.status_code,
            composer=form,
            composer_mode=mode,
            composer_error=exc.message,
        )
    sent = _("Reply sent.") if form.cleaned_data["kind"] == "reply" else _("Internal note added.")
    messages.success(request, sent)
    return _respond(request, ticket, composer_mode=mode)


@staff_required
@require_POST
def merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = acting_user(request)
    target = parse_id(request.POST.get("target", "").strip().lstrip("#"))
    if target is None:
        messages.error(request, _("Give the number of the ticket to merge into."))
        return redirect("tickets:detail", ticket_id)
    try:
        merged_into = check_merge_ticket(user, ticket_id, target)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect("tickets:detail", ticket_id)
    messages.success(request, _("Merged #%(a)d into #%(b)d.") % {"a": ticket_id, "b": merged_into.pk})
    return redirect("tickets:detail", merged_into.pk)
