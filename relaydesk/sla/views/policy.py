"""Administration: one row of the SLA table — create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.core.errors import RelaydeskError
from relaydesk.core.parsing import MAX_ID
from relaydesk.sla.admin_actions import (
    PolicyValues,
    check_create_policy,
    check_delete_policy,
    check_update_policy,
)
from relaydesk.sla.forms import PolicyForm, add_errors, policy_initial
from relaydesk.sla.models import SLAPolicy
from relaydesk.web.htmx import acting_user, admin_required


def _get_policy(policy_id: int) -> SLAPolicy:
    policy = (
        SLAPolicy.objects.select_related("team", "calendar").filter(pk=policy_id).first()
        if policy_id <= MAX_ID
        else None
    )
    if policy is None:
        raise Http404("No such SLA policy")
    return policy


def _render(request: HttpRequest, form: PolicyForm, policy: SLAPolicy | None, *, status: int) -> HttpResponse:
    number = None
    if policy is not None:
        order = list(SLAPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
        number = order.index(policy.pk) + 1 if policy.pk in order else None
    return render(
        request,
        "sla/policy.html",
        {"nav_active": "admin_sla_policies", "form": form, "policy": policy, "number": number},
        status=status,
    )


@admin_required
def policy_new(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = check_create_policy(acting_user(request), values=PolicyValues(**form.cleaned_data))
            except RelaydeskError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Policy %(name)s was added at the end of the table.") % {"name": policy.name},
                )
                return redirect(reverse("sla:policies") + f"#policy-{policy.pk}")
        return _render(request, form, None, status=422)
    return _render(request, form, None, status=200)


@admin_required
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    form = PolicyForm(request.POST or None, initial=policy_initial(policy))
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = check_update_policy(
                    acting_user(request), policy.pk, values=PolicyValues(**form.cleaned_data)
                )
            except RelaydeskError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Policy %(name)s was saved.") % {"name": saved.name})
                return redirect(reverse("sla:policies") + f"#policy-{saved.pk}")
        return _render(request, form, policy, status=422)
    return _render(request, form, policy, status=200)


@require_POST
@admin_required
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    try:
        name = check_delete_policy(acting_user(request), policy.pk)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect("sla:policy", policy.pk)
    messages.success(request, _("Policy %(name)s was deleted.") % {"name": name})
    return redirect("sla:policies")
