"""The availability switch in the header: available, on a break, offline."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from relaydesk.accounts.actions import do_set_availability
from relaydesk.core.errors import ValidationFailed
from relaydesk.web.htmx import acting_user, is_htmx, staff_required


@staff_required
@require_POST
def set_availability(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    try:
        do_set_availability(user, availability=request.POST.get("availability", ""))
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=422)
    if is_htmx(request):
        return render(request, "web/_availability.html")
    target = request.POST.get("next", "/")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if safe else "/")
