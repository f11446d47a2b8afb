"""Forms for the profile and administration screens.

Forms only turn request data into typed values (so garbage gets a field error, never a
500); the rules live in the actions, whose ``RelaydeskError`` is put back on the form
with ``add_action_error``.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.actions import MAX_CAPACITY, split_list
from relaydesk.accounts.models import Level, Role, Team, TokenScope, User
from relaydesk.accounts.taxonomy import DEFAULT_TAG_COLOR
from relaydesk.core.errors import RelaydeskError
from relaydesk.notifications.actions import wants_email
from relaydesk.notifications.models import NotificationKind
from relaydesk.sla.models import BusinessCalendarConfig


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def add_action_error(form: forms.Form, error: RelaydeskError) -> None:
    """Show an action's error next to its field, or at the top of the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=time_zone_choices, **kwargs)


class ListField(forms.CharField):
    """A comma-separated list typed in one input: ``en, de``."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [part.strip() for part in split_list(text or "")]

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value


class TeamsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(queryset=Team.objects.filter(is_active=True).order_by("name"), **kwargs)


# --- profile ------------------------------------------------------------------------------


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    time_zone = TimeZoneField(
        label=_("Time zone"), help_text=_("Times everywhere in Relaydesk are shown in this zone.")
    )
    languages = ListField(
        label=_("Languages you answer in"),
        required=False,
        max_length=200,
        help_text=_("ISO codes separated by commas, e.g. en, de, pt-br. Routing uses them."),
    )


class NotificationPreferencesForm(forms.Form):
    """One checkbox per notification kind: also send it by email."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, initial=wants_email(user, kind.value)
            )

    def preferences(self) -> dict[str, bool]:
        return {kind.value: bool(self.cleaned_data.get(kind.value)) for kind in NotificationKind}


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What will use it, e.g. “Reporting script”."),
    )
    scope = forms.ChoiceField(label=_("Access"), choices=TokenScope.choices, initial=TokenScope.READ)


# --- invitations --------------------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)
    level = forms.ChoiceField(label=_("Support level"), choices=Level.choices, initial=Level.L1)
    teams = TeamsField(label=_("Teams"))
    time_zone = TimeZoneField(label=_("Time zone"), initial="UTC")


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords are not the same."))
        return data


# --- people -------------------------------------------------------------------------------


AUTO_SUBMIT = {"onchange": "this.form.requestSubmit()"}


class PeopleFilterForm(forms.Form):
    """The filters above the people table (GET). Unknown values are form errors, ignored."""

    q = forms.CharField(required=False, max_length=100)
    role = forms.ChoiceField(
        required=False, choices=[("", _("Any role")), *Role.choices], widget=forms.Select(attrs=AUTO_SUBMIT)
    )
    team = forms.ModelChoiceField(
        required=False,
        queryset=Team.objects.order_by("name"),
        empty_label=_("Any team"),
        widget=forms.Select(attrs=AUTO_SUBMIT),
    )
    active = forms.ChoiceField(
        required=False,
        choices=[("active", _("Active")), ("inactive", _("Deactivated")), ("all", _("Everyone"))],
        widget=forms.Select(attrs=AUTO_SUBMIT),
    )


class PersonForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    level = forms.ChoiceField(label=_("Support level"), choices=Level.choices)
    teams = TeamsField(label=_("Teams"))
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=0,
        max_value=MAX_CAPACITY,
        help_text=_("How many open conversations routing gives this person at once."),
    )
    languages = ListField(
        label=_("Languages"), required=False, max_length=200, help_text=_("ISO codes, e.g. en, de")
    )
    skills = ListField(
        label=_("Skills"),
        required=False,
        max_length=2000,
        help_text=_("Comma-separated, e.g. billing, API, refunds. Routing matches them."),
    )

    def __init__(self, *args: Any, person: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = self.fields["teams"]
        assert isinstance(teams, forms.ModelMultipleChoiceField)
        if person is not None:
            # Keep a deactivated team the person still belongs to selectable.
            teams.queryset = Team.objects.filter(
                Q(is_active=True) | Q(pk__in=person.teams.values("pk"))
            ).order_by("name")


class TakeOverForm(forms.Form):
    """Who takes over a person's open tickets: someone active, or nobody (back to Unassigned)."""

    reassign_to = forms.TypedChoiceField(
        label=_("Give their open tickets to"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reassign_to"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            ("", _("Nobody: move them back to the Unassigned queue")),
            *[(person.pk, f"{person.full_name} · {person.get_role_display()}") for person in candidates],
        ]


# --- teams and taxonomy -------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region = forms.CharField(
        label=_("Region"), max_length=100, required=False, help_text=_("e.g. EMEA, Americas, APAC")
    )
    time_zone = TimeZoneField(label=_("Time zone"), initial="UTC", help_text=_("For business hours."))
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"),
        required=False,
        queryset=BusinessCalendarConfig.objects.order_by("name"),
        empty_label=_("None: business-hour targets run 24/7"),
        help_text=_("The opening hours its tickets' SLA clocks run on."),
    )
    escalation_team = forms.ModelChoiceField(
        label=_("Escalates to"),
        required=False,
        queryset=Team.objects.filter(is_active=True).order_by("name"),
        empty_label=_("Nobody: escalation raises the level only"),
        help_text=_("Where an SLA breach moves tickets: the next level's team (L1 → L2 → specialist)."),
    )

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if team is not None:
            escalation = self.fields["escalation_team"]
            assert isinstance(escalation, forms.ModelChoiceField)
            # Not itself; keep a deactivated target it already has selectable.
            keep = Q(is_active=True)
            if team.escalation_team_id is not None:
                keep |= Q(pk=team.escalation_team_id)
            escalation.queryset = Team.objects.filter(keep).exclude(pk=team.pk).order_by("name")


class TagForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    color = forms.RegexField(
        label=_("Colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        initial=DEFAULT_TAG_COLOR,
        error_messages={"invalid": _("Pick a colour like #3366cc.")},
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class NameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
