"""Forms for the email admin screens: mailboxes, acknowledgement templates, list filters.

Forms only turn what people type into plain values (a port into an int, a team id into a Team),
so garbage gets a field error, never a 500; the rules (host names, line breaks, passwords kept
when left empty) live in ``relaydesk.mail.admin_actions``, whose ``FieldErrors`` come back to
the fields with ``add_errors``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from relaydesk.accounts.models import Team
from relaydesk.core.errors import RelaydeskError
from relaydesk.mail.admin_actions import (
    MAX_ACK_BODY_LENGTH,
    MAX_ACK_SUBJECT_LENGTH,
    MAX_ADDRESS_LENGTH,
    MAX_FOLDER_LENGTH,
    MAX_HOST_LENGTH,
    MAX_LANGUAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_USERNAME_LENGTH,
    AckTemplateInput,
    FieldErrors,
    MailboxInput,
)
from relaydesk.mail.models import AcknowledgementTemplate, InboundStatus, Mailbox, OutboundStatus, Security

MAX_FILTER_TEXT = 200
# The usual port of each security choice; the form moves a port still at one of them along.
IMAP_PORTS = {Security.TLS.value: 993, Security.STARTTLS.value: 143, Security.NONE.value: 143}
SMTP_PORTS = {Security.TLS.value: 465, Security.STARTTLS.value: 587, Security.NONE.value: 25}


def add_errors(form: forms.Form, error: RelaydeskError) -> None:
    """Show an action's error(s) next to their fields, or at the top of the form."""
    problems = error.errors if isinstance(error, FieldErrors) else {error.field: [error.message]}
    for field, messages in problems.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _text(label: StrOrPromise, max_length: int, *, required: bool = False, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", **attrs}),
    )


def _port(label: StrOrPromise, initial: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        initial=initial,
        min_value=1,
        max_value=65535,
        error_messages={
            "invalid": _("A port is a number from 1 to 65535."),
            "min_value": _("A port is a number from 1 to 65535."),
            "max_value": _("A port is a number from 1 to 65535."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 65535}),
    )


def _security(ports: dict[str, int], *, initial: str, port_field: str) -> forms.ChoiceField:
    """TLS / STARTTLS / none, each named with its usual port; the page moves the port along."""
    return forms.ChoiceField(
        label=_("Security"),
        choices=[
            (Security.TLS, format_lazy(_("TLS (port {})"), ports[Security.TLS.value])),
            (Security.STARTTLS, format_lazy(_("STARTTLS (port {})"), ports[Security.STARTTLS.value])),
            (Security.NONE, _("None (trusted network)")),
        ],
        initial=initial,
        widget=forms.Select(attrs={"data-ports": json.dumps(ports), "data-port-field": port_field}),
    )


def _password(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MAX_PASSWORD_LENGTH,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class MailboxForm(forms.Form):
    name = _text(_("Name"), MAX_NAME_LENGTH, required=True, placeholder=_("Support"))
    address = _text(_("Address"), MAX_ADDRESS_LENGTH, required=True, placeholder="support@example.com")
    display_name = _text(_("Sender name"), MAX_NAME_LENGTH, placeholder=_("Northwind Support"))
    team = forms.ModelChoiceField(
        label=_("Default team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No team: routing decides"),
    )
    language = _text(_("Default language"), MAX_LANGUAGE_LENGTH, required=True)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    send_acknowledgement = forms.BooleanField(
        label=_("Acknowledge new tickets"), required=False, initial=True
    )

    imap_host = _text(_("IMAP server"), MAX_HOST_LENGTH, placeholder="imap.example.com")
    imap_port = _port(_("Port"), 993)
    imap_security = _security(IMAP_PORTS, initial=Security.TLS, port_field="id_imap_port")
    imap_username = _text(_("User"), MAX_USERNAME_LENGTH)
    imap_password = _password(_("Password"))
    imap_folder = _text(_("Folder to read"), MAX_FOLDER_LENGTH, placeholder="INBOX")
    imap_done_folder = _text(
        _("Move read mail to"), MAX_FOLDER_LENGTH, placeholder=_("(leave it, marked read)")
    )

    smtp_host = _text(_("SMTP server"), MAX_HOST_LENGTH, placeholder="smtp.example.com")
    smtp_port = _port(_("Port"), 587)
    smtp_security = _security(SMTP_PORTS, initial=Security.STARTTLS, port_field="id_smtp_port")
    smtp_username = _text(_("User"), MAX_USERNAME_LENGTH)
    smtp_password = _password(_("Password"))

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        keep = Q(is_active=True)
        if mailbox is not None and mailbox.team_id is not None:
            keep |= Q(pk=mailbox.team_id)  # an inactive team it already has stays selectable
        team.queryset = Team.objects.filter(keep).order_by("name")
        self.fields["language"].help_text = _("ISO code: en, de, pt-br…")
        self.fields["display_name"].help_text = _("Shown to customers as the sender of replies.")
        self.fields["imap_done_folder"].help_text = _("Empty: mail stays in the folder, marked read.")
        for protocol in ("imap", "smtp"):
            stored = bool(mailbox and getattr(mailbox, f"{protocol}_password_encrypted"))
            widget = self.fields[f"{protocol}_password"].widget
            widget.attrs["placeholder"] = str(_("unchanged")) if stored else ""
            self.fields[f"{protocol}_password"].help_text = (
                _("Stored encrypted. Leave empty to keep it.")
                if stored
                else _("Stored encrypted, never shown.")
            )

    def mailbox_input(self) -> MailboxInput:
        data = self.cleaned_data
        return MailboxInput(
            name=data["name"],
            address=data["address"],
            display_name=data["display_name"],
            team=data["team"],
            language=data["language"],
            is_active=data["is_active"],
            send_acknowledgement=data["send_acknowledgement"],
            imap_host=data["imap_host"],
            imap_port=data["imap_port"],
            imap_security=data["imap_security"],
            imap_username=data["imap_username"],
            imap_password=data["imap_password"] or None,
            imap_folder=data["imap_folder"] or "INBOX",
            imap_done_folder=data["imap_done_folder"],
            smtp_host=data["smtp_host"],
            smtp_port=data["smtp_port"],
            smtp_security=data["smtp_security"],
            smtp_username=data["smtp_username"],
            smtp_password=data["smtp_password"] or None,
        )


def mailbox_initial(mailbox: Mailbox) -> dict[str, Any]:
    """The edit form's values: everything but the passwords, which are never sent back."""
    fields = [name for name in MailboxForm.base_fields if not name.endswith("_password")]
    initial = {name: getattr(mailbox, name) for name in fields if name != "team"}
    initial["team"] = mailbox.team_id
    return initial


class AckTemplateForm(forms.Form):
    language = _text(_("Language"), MAX_LANGUAGE_LENGTH, required=True, placeholder="en")
    subject = forms.CharField(
        label=_("Subject"),
        max_length=MAX_ACK_SUBJECT_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("One line. The ticket number, as in [#1042], is added at the end."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_ACK_BODY_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("{name} is the customer's name, {number} the ticket number, {subject} its subject."),
    )

    def template_input(self) -> AckTemplateInput:
        data = self.cleaned_data
        return AckTemplateInput(language=data["language"], subject=data["subject"], body=data["body"])


def ack_template_initial(template: AcknowledgementTemplate) -> dict[str, str]:
    return {"language": template.language, "subject": template.subject, "body": template.body}


# --- list filters -------------------------------------------------------------------------


class _FilterForm(forms.Form):
    """Filters arrive in the query string: anything unusable is dropped, never an error page."""

    def values(self) -> dict[str, Any]:
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}

    def query(self) -> str:
        """The filters as a query string, for "load more" links."""
        params = QueryDict(mutable=True)
        for name, value in self.values().items():
            if isinstance(value, Mailbox):
                value = value.pk
            elif isinstance(value, date):
                value = value.isoformat()
            params[name] = str(value)
        return params.urlencode()


def _mailbox_filter() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Mailbox"),
        queryset=Mailbox.objects.only("id", "name", "address").order_by("name"),
        required=False,
        empty_label=_("All mailboxes"),
    )


def _date(label: StrOrPromise) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _search(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_FILTER_TEXT,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


QUARANTINE_STATUSES = [
    ("", _("Quarantined + ignored")),
    (InboundStatus.QUARANTINED, _("Quarantined")),
    (InboundStatus.IGNORED, _("Ignored")),
]


class QuarantineFilterForm(_FilterForm):
    status = forms.ChoiceField(label=_("Status"), choices=QUARANTINE_STATUSES, required=False)
    mailbox = _mailbox_filter()
    sender = _search(_("Sender"))
    subject = _search(_("Subject"))
    reason = _search(_("Reason"))
    received_from = _date(_("Received from"))
    received_to = _date(_("to"))


class MailLogFilterForm(_FilterForm):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *InboundStatus.choices], required=False
    )
    mailbox = _mailbox_filter()


class OutboxFilterForm(_FilterForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("Held and failed")),
            (OutboundStatus.HELD, _("Held")),
            (OutboundStatus.FAILED, _("Failed")),
        ],
        required=False,
    )
