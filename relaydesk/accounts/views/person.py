"""Administration: one person — role, level, teams and routing profile; deactivate, reassign, reactivate."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from relaydesk.accounts import admin_queries
from relaydesk.accounts.actions import (
    DeactivationResult,
    check_deactivate_person,
    check_reactivate_person,
    check_reassign_open_tickets,
    check_update_person,
)
from relaydesk.accounts.forms import PersonForm, TakeOverForm, add_action_error
from relaydesk.accounts.models import Role, User
from relaydesk.core.errors import RelaydeskError
from relaydesk.web.htmx import acting_user, admin_required


def _person(person_id: int) -> User:
    person = User.objects.prefetch_related("teams").filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person")
    return person


def _take_over_form(person: User, data: Any = None) -> TakeOverForm:
    return TakeOverForm(data, candidates=list(admin_queries.people_to_take_over(person)))


def _report(request: HttpRequest, result: DeactivationResult, target_name: str) -> None:
    moved = len(result.reassigned)
    if moved:
        messages.success(
            request,
            ngettext(
                "%(count)d open ticket moved to %(target)s.",
                "%(count)d open tickets moved to %(target)s.",
                moved,
            )
            % {"count": moved, "target": target_name},
        )
    if result.failed:
        numbers = ", ".join(f"#{pk}" for pk in sorted(result.failed)[:10])
        messages.warning(
            request,
            _("Some tickets could not be moved (%(numbers)s); open them to reassign by hand.")
            % {"numbers": numbers},
        )


def _target_name(form: TakeOverForm) -> str:
    target_id = form.cleaned_data.get("reassign_to")
    if target_id is None:
        return _("the Unassigned queue")
    target = User.objects.filter(pk=target_id).first()
    return str(target) if target else _("the Unassigned queue")


def _render_person(
    request: HttpRequest,
    person: User,
    *,
    form: PersonForm | None = None,
    take_over_form: TakeOverForm | None = None,
    status: int = 200,
) -> HttpResponse:
    open_tickets, open_total = admin_queries.open_tickets_of(person)
    if form is None:
        form = PersonForm(
            person=person,
            initial={
                "role": person.role,
                "level": person.level,
                "teams": list(person.teams.all()),
                "capacity": person.capacity,
                "languages": person.languages,
                "skills": person.skills,
            },
        )
    return render(
        request,
        "accounts/admin/person.html",
        {
            "nav_active": "admin_people",
            "person": person,
            "form": form,
            "take_over_form": take_over_form or _take_over_form(person),
            "open_tickets": open_tickets,
            "open_total": open_total,
            "is_self": person.pk == request.user.pk,
            "roles": Role,
        },
        status=status,
    )


@admin_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(person_id)
    if request.method != "POST":
        return _render_person(request, person)
    form = PersonForm(request.POST, person=person)
    if form.is_valid():
        data = form.cleaned_data
        try:
            check_update_person(
                acting_user(request),
                person.pk,
                role=data["role"],
                level=data["level"],
                teams=list(data["teams"]),
                capacity=data["capacity"],
                languages=data["languages"],
                skills=data["skills"],
            )
        except RelaydeskError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": person})
            return redirect("staff:person", person.pk)
    return _render_person(request, person, form=form, status=422)


@admin_required
def deactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    """Confirm, choose who takes over the open tickets, then deactivate."""
    person = _person(person_id)
    if not person.is_active:
        return redirect("staff:person", person.pk)
    form = _take_over_form(person, request.POST if request.method == "POST" else None)
    error = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                result = check_deactivate_person(
                    acting_user(request), person.pk, reassign_to_id=form.cleaned_data["reassign_to"]
                )
            except RelaydeskError as exc:
                if exc.field in form.fields:
                    add_action_error(form, exc)
                else:
                    error = exc.message
            else:
                messages.success(
                    request, _("%(name)s was deactivated and can no longer sign in.") % {"name": person}
                )
                _report(request, result, _target_name(form))
                return redirect("staff:person", person.pk)
    open_tickets, open_total = admin_queries.open_tickets_of(person)
    return render(
        request,
        "accounts/admin/deactivate.html",
        {
            "nav_active": "admin_people",
            "person": person,
            "form": form,
            "error": error,
            "open_tickets": open_tickets,
            "open_total": open_total,
            "is_self": person.pk == request.user.pk,
        },
        status=status,
    )


@require_POST
@admin_required
def reassign(request: HttpRequest, person_id: int) -> HttpResponse:
    """Hand all of someone's open tickets to another person, or back to Unassigned."""
    person = _person(person_id)
    form = _take_over_form(person, request.POST)
    if form.is_valid():
        try:
            result = check_reassign_open_tickets(
                acting_user(request), person.pk, reassign_to_id=form.cleaned_data["reassign_to"]
            )
        except RelaydeskError as exc:
            add_action_error(form, exc)
        else:
            if not result.reassigned and not result.failed:
                messages.info(request, _("%(name)s has no open tickets.") % {"name": person})
            _report(request, result, _target_name(form))
            return redirect("staff:person", person.pk)
    return _render_person(request, person, take_over_form=form, status=422)


@require_POST
@admin_required
def reactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        person = check_reactivate_person(acting_user(request), person_id)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect("staff:people")
    messages.success(request, _("%(name)s is active again and can sign in.") % {"name": person})
    return redirect("staff:person", person.pk)
