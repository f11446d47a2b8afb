"""Administration: outbound mail that did not go out — held by the circuit breaker (too many mails
to one ticket or recipient in an hour) or failed for good — with the error, and "release" for
held mail. Keyset pages on the id, newest first, as the inbound lists."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID, parse_id
from relaydesk.mail.forms import OutboxFilterForm
from relaydesk.mail.models import OutboundEmail, OutboundStatus
from relaydesk.web.htmx import acting_user, admin_required, is_htmx

PAGE_SIZE = 50
LIST_FIELDS = (
    "id",
    "ticket_id",
    "mailbox__name",
    "kind",
    "to",
    "subject",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
)


def release_action() -> Callable[..., Any] | None:
    """``outbox.check_release_held`` when the outbound side provides it (the button depends on it)."""
    module = importlib.import_module("relaydesk.mail.outbox")
    action = getattr(module, "check_release_held", None)
    return action if callable(action) else None


@require_GET
@admin_required
def outbox(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET)
    values = form.values()
    statuses = [values["status"]] if "status" in values else [OutboundStatus.HELD, OutboundStatus.FAILED]
    queryset = OutboundEmail.objects.filter(status__in=statuses)
    before = parse_id(request.GET.get("before"))
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.select_related("mailbox").only(*LIST_FIELDS).order_by("-id")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    context = {
        "nav_active": "admin_mail_outbox",
        "form": form,
        "rows": rows[:PAGE_SIZE],
        "next_before": next_before,
        "is_later_page": before is not None,
        "filter_query": form.query(),
        "filtered": bool(values),
        "can_release": release_action() is not None,
    }
    partial = is_htmx(request) and before is not None
    return render(request, "mail/_outbox_rows.html" if partial else "mail/outbox.html", context)


@require_POST
@admin_required
def outbound_release(request: HttpRequest, outbound_id: int) -> HttpResponse:
    action = release_action()
    if action is None or outbound_id > MAX_ID:
        raise Http404("Releasing held mail is not available")
    try:
        row = action(acting_user(request), outbound_id)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("“%(subject)s” was released and is being sent.") % {"subject": row.subject}
        )
    query = OutboxFilterForm(QueryDict(request.POST.get("filters", "")[:2000])).query()
    return redirect(reverse("mail:outbox") + (f"?{query}" if query else ""))
