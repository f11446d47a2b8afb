"""Administration: the service vision — statement, brand tone, channels, languages, coverage."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relaydesk.core.errors import RelaydeskError
from relaydesk.sla.admin_actions import check_update_vision, current_vision
from relaydesk.sla.forms import VisionForm, add_errors
from relaydesk.web.htmx import acting_user, admin_required


@admin_required
def vision_edit(request: HttpRequest) -> HttpResponse:
    service = current_vision()
    initial = {}
    if service is not None:
        initial = {
            "statement": service.statement,
            "brand_tone": service.brand_tone,
            "channels": list(service.channels or []),
            "languages": list(service.languages or []),
            "coverage": service.coverage,
        }
    form = VisionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                check_update_vision(acting_user(request), **form.cleaned_data)
            except RelaydeskError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The service vision was saved. Everyone sees it on this page."))
                return redirect("sla:vision")
    return render(
        request,
        "sla/vision_edit.html",
        {"nav_active": "sla_vision", "form": form, "service": service},
        status=status,
    )
