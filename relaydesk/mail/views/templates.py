"""Administration: acknowledgement templates — the automatic answer to a new email ticket, one
per language — with a live preview filled with sample values."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID
from relaydesk.mail.admin_actions import (
    FieldErrors,
    check_delete_ack_template,
    check_save_ack_template,
    clean_ack_template,
    preview_ack_template,
)
from relaydesk.mail.forms import AckTemplateForm, ack_template_initial, add_errors
from relaydesk.mail.models import AcknowledgementTemplate
from relaydesk.mail.outbox import DEFAULT_ACK_BODY, DEFAULT_ACK_SUBJECT
from relaydesk.web.htmx import acting_user, admin_required

NAV = "admin_mail_templates"
# A new template starts from the built-in text the outbox sends when no template applies.
NEW_TEMPLATE = {"language": "en", "subject": DEFAULT_ACK_SUBJECT, "body": DEFAULT_ACK_BODY}


def _get_template(template_id: int) -> AcknowledgementTemplate:
    template = (
        AcknowledgementTemplate.objects.filter(pk=template_id).first() if template_id <= MAX_ID else None
    )
    if template is None:
        raise Http404("No such template")
    return template


def _preview(form: AckTemplateForm) -> dict[str, Any]:
    """The preview of what the form holds, or the problems that prevent one."""
    if not form.is_valid():
        return {"preview": None, "problems": [str(e) for errors in form.errors.values() for e in errors]}
    try:
        clean = clean_ack_template(form.template_input())
    except FieldErrors as exc:
        return {"preview": None, "problems": [m for messages_ in exc.errors.values() for m in messages_]}
    subject, body = preview_ack_template(clean.subject, clean.body)
    return {"preview": {"subject": subject, "body": body}, "problems": []}


def _stored_preview(template: AcknowledgementTemplate | None, initial: dict[str, str]) -> dict[str, Any]:
    return _preview(AckTemplateForm(ack_template_initial(template) if template else initial))


def _save(request: HttpRequest, form: AckTemplateForm, template_id: int | None) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        template = check_save_ack_template(
            acting_user(request), values=form.template_input(), template_id=template_id
        )
    except RelaydeskError as exc:
        add_errors(form, exc)
        return None
    messages.success(
        request, _("The acknowledgement for %(language)s was saved.") % {"language": template.language}
    )
    return redirect("mail:ack_templates")


@admin_required
def ack_templates(request: HttpRequest) -> HttpResponse:
    """The list, with the form for a new language beside it."""
    templates = list(AcknowledgementTemplate.objects.order_by("language"))
    initial = {**NEW_TEMPLATE, "language": "" if any(t.language == "en" for t in templates) else "en"}
    form = AckTemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        done = _save(request, form, None)
        if done is not None:
            return done
        status = 422
    context = {
        "nav_active": NAV,
        "templates": templates,
        "form": form,
        "template": None,
        **(_preview(form) if form.is_bound else _stored_preview(None, initial)),
    }
    return render(request, "mail/ack_templates.html", context, status=status)


@admin_required
def ack_template(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(template_id)
    form = AckTemplateForm(request.POST or None, initial=ack_template_initial(template))
    status = 200
    if request.method == "POST":
        done = _save(request, form, template.pk)
        if done is not None:
            return done
        status = 422
    context = {
        "nav_active": NAV,
        "form": form,
        "template": template,
        **(_preview(form) if form.is_bound else _stored_preview(template, NEW_TEMPLATE)),
    }
    return render(request, "mail/ack_template.html", context, status=status)


@require_POST
@admin_required
def ack_template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(template_id)
    try:
        language = check_delete_ack_template(acting_user(request), template.pk)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The acknowledgement for %(language)s was deleted.") % {"language": language}
        )
    return redirect("mail:ack_templates")


@require_POST
@admin_required
def ack_template_preview(request: HttpRequest) -> HttpResponse:
    """The preview panel for what the form holds (htmx, while the admin types). Writes nothing."""
    return render(request, "mail/_ack_preview.html", _preview(AckTemplateForm(request.POST)))
