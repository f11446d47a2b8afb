"""Create a ticket on a customer's behalf: a phone call, a walk-in, a message from elsewhere."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from relaydesk.core.errors import RelaydeskError
from relaydesk.customers.actions import check_create_contact
from relaydesk.customers.queries import search_contacts
from relaydesk.tickets.actions import check_create_ticket
from relaydesk.tickets.forms import CreateTicketForm, uploaded_attachments
from relaydesk.web.htmx import acting_user, staff_required


@staff_required
def create_ticket(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = CreateTicketForm(request.POST or None, request.FILES or None, user=user)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            attachments = uploaded_attachments(request.FILES)
            try:
                with transaction.atomic():
                    requester = data["requester"] or check_create_contact(
                        user,
                        name=data["new_name"],
                        emails=[data["new_email"]] if data["new_email"] else [],
                        phone=data["new_phone"],
                    )
                    ticket = check_create_ticket(
                        user,
                        subject=data["subject"],
                        requester=requester,
                        body_text=data["body"],
                        channel=data["channel"],
                        priority=data["priority"],
                        team=data["team"],
                        assignee=data["assignee"],
                        tags=data["tags"],
                        call_duration_seconds=data["call_duration"],
                        description_is_note=data["description_is_note"],
                        attachments=attachments,
                    )
            except RelaydeskError as exc:
                form_field = {"emails": "new_email", "call_duration_seconds": "call_duration"}.get(
                    exc.field or "", exc.field
                )
                field = form_field if form_field in form.fields else None
                form.add_error(field, exc.message)
            else:
                return redirect("tickets:detail", ticket.pk)
    selected = form.cleaned_data.get("requester") if form.is_bound and hasattr(form, "cleaned_data") else None
    return render(
        request,
        "tickets/create.html",
        {"form": form, "nav_active": "create", "selected_contacts": [selected] if selected else []},
        status=status,
    )


@staff_required
def contact_picker(request: HttpRequest) -> HttpResponse:
    """The requester search results shown under the search box while typing (htmx)."""
    text = request.GET.get("q", "")
    contacts = search_contacts(acting_user(request), text, limit=8) if text.strip() else []
    return render(request, "tickets/_contact_results.html", {"contacts": contacts, "q": text})
