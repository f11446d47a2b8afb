"""Administration: inbound mail that did not become a ticket message — quarantined (processing
failed: too big, unreadable, a loop…) or ignored (automatic mail) — with reprocess and the raw
.eml; and the mail log, every inbound message whatever became of it.

Both lists page by keyset on the id (newest first: rows are numbered as they arrive), so a page
deep into a million rows costs what the first one does; the raw bytes are never loaded for a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID, parse_id
from relaydesk.mail.forms import MailLogFilterForm, QuarantineFilterForm
from relaydesk.mail.models import InboundEmail, InboundStatus
from relaydesk.web.htmx import acting_user, admin_required, is_htmx

PAGE_SIZE = 50
# What a list row needs: never ``raw`` (up to tens of megabytes each).
LIST_FIELDS = (
    "id",
    "mailbox__name",
    "source",
    "size",
    "header_message_id",
    "from_address",
    "subject",
    "status",
    "reason",
    "ticket_id",
    "received_at",
)


@dataclass(frozen=True)
class InboundPage:
    rows: list[InboundEmail]
    next_before: int | None  # the ``before`` of the next (older) page
    is_later_page: bool


def inbound_page(
    queryset: QuerySet[InboundEmail], *, before: int | None, limit: int | None = None
) -> InboundPage:
    limit = limit or PAGE_SIZE
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.select_related("mailbox").only(*LIST_FIELDS).order_by("-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return InboundPage(
        rows=rows, next_before=rows[-1].pk if has_more else None, is_later_page=before is not None
    )


def _day_start(day: Any) -> datetime:
    """Midnight of ``day`` in the viewer's time zone (activated by the middleware)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _filtered(queryset: QuerySet[InboundEmail], values: dict[str, Any]) -> QuerySet[InboundEmail]:
    if "status" in values:
        queryset = queryset.filter(status=values["status"])
    if "mailbox" in values:
        queryset = queryset.filter(mailbox=values["mailbox"])
    if "sender" in values:
        queryset = queryset.filter(from_address__icontains=values["sender"])
    if "subject" in values:
        queryset = queryset.filter(subject__icontains=values["subject"])
    if "reason" in values:
        queryset = queryset.filter(reason__icontains=values["reason"])
    if "received_from" in values:
        queryset = queryset.filter(received_at__gte=_day_start(values["received_from"]))
    if "received_to" in values:
        queryset = queryset.filter(received_at__lt=_day_start(values["received_to"] + timedelta(days=1)))
    return queryset


def quarantine_queryset(values: dict[str, Any]) -> QuerySet[InboundEmail]:
    base = InboundEmail.objects.filter(status__in=[InboundStatus.QUARANTINED, InboundStatus.IGNORED])
    return _filtered(base, values)


def _list(
    request: HttpRequest,
    *,
    form: QuarantineFilterForm | MailLogFilterForm,
    queryset: QuerySet[InboundEmail],
    **context: Any,
) -> HttpResponse:
    page = inbound_page(queryset, before=parse_id(request.GET.get("before")))
    context.update(
        {"form": form, "page": page, "filter_query": form.query(), "filtered": bool(form.values())}
    )
    template = context.pop("template")
    partial = context.pop("partial")
    return render(request, partial if is_htmx(request) and page.is_later_page else template, context)


@require_GET
@admin_required
def quarantine(request: HttpRequest) -> HttpResponse:
    form = QuarantineFilterForm(request.GET)
    return _list(
        request,
        form=form,
        queryset=quarantine_queryset(form.values()),
        template="mail/quarantine.html",
        partial="mail/_inbound_rows.html",
        nav_active="admin_mail_quarantine",
        show_actions=True,
    )


@require_GET
@admin_required
def mail_log(request: HttpRequest) -> HttpResponse:
    form = MailLogFilterForm(request.GET)
    return _list(
        request,
        form=form,
        queryset=_filtered(InboundEmail.objects.all(), form.values()),
        template="mail/log.html",
        partial="mail/_inbound_rows.html",
        nav_active="admin_mail_log",
        show_actions=False,
    )


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """The quarantine list with the filters the admin had (re-read, so nothing else gets through)."""
    query = QuarantineFilterForm(QueryDict(request.POST.get("filters", "")[:2000])).query()
    return redirect(reverse("mail:quarantine") + (f"?{query}" if query else ""))


@require_POST
@admin_required
def inbound_reprocess(request: HttpRequest, inbound_id: int) -> HttpResponse:
    from relaydesk.mail.processing import check_reprocess

    if inbound_id > MAX_ID:
        raise Http404("No such message")
    try:
        outcome = check_reprocess(acting_user(request), inbound_id)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return _back_to_list(request)
    if outcome.status == InboundStatus.PROCESSED:
        messages.success(
            request,
            _("Message %(id)s was processed: %(what)s.") % {"id": inbound_id, "what": outcome.describe()},
        )
    else:
        messages.warning(
            request,
            _("Message %(id)s is still not a ticket message: %(what)s")
            % {"id": inbound_id, "what": outcome.describe()},
        )
    return _back_to_list(request)


@require_GET
@admin_required
def inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """The message exactly as it arrived, as a .eml download (never shown inline: it is untrusted)."""
    row = (
        InboundEmail.objects.filter(pk=inbound_id).only("id", "raw").first() if inbound_id <= MAX_ID else None
    )
    if row is None:
        raise Http404("No such message")
    response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
