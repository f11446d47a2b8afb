"""The notifications screen and the header bell (polled by htmx every 30 s)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from relaydesk.core.parsing import parse_id
from relaydesk.notifications.actions import do_mark_read
from relaydesk.notifications.models import Notification
from relaydesk.notifications.queries import notification_page
from relaydesk.web.htmx import acting_user, staff_required

PAGE_SIZE = 30


@require_GET
@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first, keyset-paginated by (created_at, id); ``?unread=1`` shows unread only."""
    unread_only = request.GET.get("unread") == "1"
    page = notification_page(
        acting_user(request),
        unread_only=unread_only,
        before_id=parse_id(request.GET.get("before")),
        limit=PAGE_SIZE,
    )
    older = None
    if page.next_before_id is not None:
        params = request.GET.copy()
        params["before"] = str(page.next_before_id)
        older = params.urlencode()
    return render(
        request,
        "notifications/list.html",
        {
            "nav_active": "notifications",
            "notifications": page.notifications,
            "unread_only": unread_only,
            "older_query": older,
            "is_later_page": page.is_later_page,
        },
    )


@require_GET
@staff_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go to its ticket (or back to the list if it has none)."""
    user = acting_user(request)
    notification = Notification.objects.filter(recipient=user, pk=notification_id).first()
    if notification is None:
        messages.error(request, _("That notification no longer exists."))
        return redirect("notifications:list")
    do_mark_read(user=user, notification_ids=[notification.pk])
    if notification.ticket_id:
        return redirect("tickets:detail", notification.ticket_id)
    return redirect("notifications:list")


@require_POST
@staff_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    changed = do_mark_read(user=acting_user(request))
    if changed:
        messages.success(
            request,
            ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", changed)
            % {"count": changed},
        )
    return redirect(reverse("notifications:list"))


@require_GET
@staff_required
def bell(request: HttpRequest) -> HttpResponse:
    """Just the bell link with the unread count, for the header's htmx poll (outerHTML swap)."""
    response = render(request, "notifications/_bell.html")
    response["Cache-Control"] = "no-store"
    return response
