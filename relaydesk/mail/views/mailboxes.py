"""Administration: mailboxes — the list, connect a new one, edit, test the connection, and the
inbound webhook's secret (shown once, stored hashed).

"Test connection" posts the form as it is (htmx swaps the result panel), so an admin can try
settings before saving them; a password left empty means the stored one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID, parse_id
from relaydesk.mail.admin_actions import (
    FieldErrors,
    check_create_mailbox,
    check_generate_webhook_secret,
    check_test_connection,
    check_update_mailbox,
)
from relaydesk.mail.forms import MailboxForm, add_errors, mailbox_initial
from relaydesk.mail.models import Mailbox
from relaydesk.web.htmx import acting_user, admin_required, is_htmx

NAV = "admin_mailboxes"


def _get_mailbox(mailbox_id: int) -> Mailbox:
    mailbox = (
        Mailbox.objects.select_related("team").filter(pk=mailbox_id).first() if mailbox_id <= MAX_ID else None
    )
    if mailbox is None:
        raise Http404("No such mailbox")
    return mailbox


def webhook_url(request: HttpRequest, mailbox: Mailbox) -> str:
    return request.build_absolute_uri(reverse("mail:inbound_webhook", args=[mailbox.pk]))


@require_GET
@admin_required
def mailboxes(request: HttpRequest) -> HttpResponse:
    rows = list(Mailbox.objects.select_related("team").order_by("name", "id"))
    return render(request, "mail/mailboxes.html", {"nav_active": NAV, "mailboxes": rows})


def _render_form(
    request: HttpRequest,
    form: MailboxForm,
    *,
    mailbox: Mailbox | None,
    status: int = 200,
    test_lines: list[Any] | None = None,
    new_secret: str = "",
) -> HttpResponse:
    context: dict[str, Any] = {
        "nav_active": NAV,
        "form": form,
        "mailbox": mailbox,
        "test_lines": test_lines,
        "new_secret": new_secret,
        "webhook_url": webhook_url(request, mailbox) if mailbox else "",
    }
    return render(request, "mail/mailbox.html", context, status=status)


@admin_required
def mailbox_new(request: HttpRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None, initial={"language": "en", "imap_folder": "INBOX"})
    if request.method == "POST":
        if form.is_valid():
            try:
                mailbox = check_create_mailbox(acting_user(request), values=form.mailbox_input())
            except RelaydeskError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Mailbox %(name)s was connected. Test the connection, or set up the webhook.")
                    % {"name": mailbox.name},
                )
                return redirect("mail:mailbox", mailbox.pk)
        return _render_form(request, form, mailbox=None, status=422)
    return _render_form(request, form, mailbox=None)


@admin_required
def mailbox_detail(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _get_mailbox(mailbox_id)
    form = MailboxForm(request.POST or None, initial=mailbox_initial(mailbox), mailbox=mailbox)
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = check_update_mailbox(acting_user(request), mailbox.pk, values=form.mailbox_input())
            except RelaydeskError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Mailbox %(name)s was saved.") % {"name": saved.name})
                return redirect("mail:mailboxes")
        return _render_form(request, form, mailbox=mailbox, status=422)
    return _render_form(request, form, mailbox=mailbox)


def _form_problems(form: MailboxForm) -> list[str]:
    return [
        f"{form.fields[field].label}: {error}" if field in form.fields else str(error)
        for field, errors in form.errors.items()
        for error in errors
    ]


@require_POST
@admin_required
def mailbox_test(request: HttpRequest) -> HttpResponse:
    """Try the settings the form holds now (IMAP and SMTP, a few seconds at most). Writes nothing.

    ``mailbox_id`` (a hidden field of the edit form) lends its stored passwords to empty fields.
    """
    mailbox_id = parse_id(request.POST.get("mailbox_id"))
    mailbox = _get_mailbox(mailbox_id) if mailbox_id is not None else None
    form = MailboxForm(request.POST, mailbox=mailbox)
    lines: list[Any] = []
    problems: list[str] = []
    if form.is_valid():
        try:
            lines = check_test_connection(
                acting_user(request), values=form.mailbox_input(), mailbox_id=mailbox_id
            )
        except FieldErrors as exc:
            add_errors(form, exc)
            problems = _form_problems(form)
        except RelaydeskError as exc:
            problems = [exc.message]
    else:
        problems = _form_problems(form)
    if not is_htmx(request):  # without JavaScript: the whole page, with the result in its panel
        return _render_form(request, form, mailbox=mailbox, test_lines=lines or None)
    return render(request, "mail/_connection_test.html", {"test_lines": lines, "problems": problems})


@require_POST
@admin_required
def mailbox_webhook_secret(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """A new secret for the inbound webhook, shown in this response only; the old one stops working."""
    mailbox = _get_mailbox(mailbox_id)
    mailbox, secret = check_generate_webhook_secret(acting_user(request), mailbox.pk)
    context = {"mailbox": mailbox, "new_secret": secret, "webhook_url": webhook_url(request, mailbox)}
    if is_htmx(request):
        response = render(request, "mail/_webhook.html", context)
    else:
        form = MailboxForm(initial=mailbox_initial(mailbox), mailbox=mailbox)
        response = _render_form(request, form, mailbox=mailbox, new_secret=secret)
    response["Cache-Control"] = "no-store"  # the secret must not linger in a cache
    return response
