"""Forms for the agent workspace. They only parse and shape input; rules live in tickets.actions."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import Level, Team, User
from relaydesk.customers.models import Contact
from relaydesk.tickets.actions import NewAttachment
from relaydesk.tickets.models import Category, Channel, Priority, Product, Status

MAX_FILES_PER_MESSAGE = 10


def uploaded_attachments(files: Any) -> list[NewAttachment]:
    """The files of a multipart form as attachments (size limits are the action's job)."""
    return [
        NewAttachment(f.name or "attachment", f.content_type or "application/octet-stream", f.read())
        for f in files.getlist("attachments")[:MAX_FILES_PER_MESSAGE]
    ]


def staff_choices() -> Any:
    return User.objects.filter(is_active=True).order_by("full_name")


class TagsField(forms.CharField):
    """Comma-separated tag names."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class TicketPropertiesForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    # Optional: a form from before the field existed (or a script) leaves the channel as it is.
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("— Unassigned —")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("— No team —")
    )
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices)
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Comma-separated"))
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False, empty_label=_("— None —")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False, empty_label=_("— None —")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["category"].queryset = Category.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.filter(is_active=True)  # type: ignore[attr-defined]


class ComposerForm(forms.Form):
    kind = forms.ChoiceField(choices=[("reply", _("Public reply")), ("note", _("Internal note"))])
    body = forms.CharField(label=_("Message"), required=True, strip=True, max_length=200_000)
    then_status = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("keep status")),
            (Status.PENDING_CUSTOMER, _("set Pending – customer")),
            (Status.PENDING_INTERNAL, _("set Pending – internal")),
            (Status.RESOLVED, _("set Resolved")),
        ],
    )


_DURATION_RE = re.compile(r"^\s*(?:(\d{1,2}):)?(\d{1,3}):(\d{2})\s*$|^\s*(\d{1,4})\s*$")


def parse_call_duration(value: str) -> int | None:
    """ "12:30" → 750 s; "1:02:03" → 3723 s; "15" → 15 minutes. Empty → None."""
    value = (value or "").strip()
    if not value:
        return None
    match = _DURATION_RE.match(value)
    if not match:
        raise forms.ValidationError(_("Write the duration as minutes:seconds, e.g. 12:30."))
    hours, minutes, seconds, only_minutes = match.groups()
    if only_minutes is not None:
        return int(only_minutes) * 60
    if int(seconds) >= 60:
        raise forms.ValidationError(_("Seconds must be below 60."))
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


class CreateTicketForm(forms.Form):
    requester = forms.ModelChoiceField(
        label=_("Existing customer"), queryset=Contact.objects.all(), required=False, widget=forms.HiddenInput
    )
    new_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_email = forms.EmailField(label=_("Email"), required=False)
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), max_length=200_000
    )
    description_is_note = forms.BooleanField(
        label=_("Keep the description internal (a call summary, not the customer's words)"), required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    call_duration = forms.CharField(
        label=_("Call duration"), required=False, help_text=_("minutes:seconds, e.g. 12:30")
    )
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int, initial=3)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("— Your team —")
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("— Unassigned —")
    )
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Comma-separated"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(is_active=True)
        if not user.sees_all_tickets:
            teams = teams.filter(pk__in=user.teams.values("id"))
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = staff_choices()  # type: ignore[attr-defined]

    def clean_call_duration(self) -> int | None:
        return parse_call_duration(self.cleaned_data.get("call_duration", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("requester") and not (
            data.get("new_name") and (data.get("new_email") or data.get("new_phone"))
        ):
            raise forms.ValidationError(
                _("Pick an existing customer, or give the new customer's name and an email or phone number.")
            )
        return data
