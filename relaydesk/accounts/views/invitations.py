"""Inviting people (admins) and accepting an invitation (the invitee, not signed in yet)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from relaydesk.accounts.actions import (
    INVITATION_ERRORS,
    InvitationState,
    check_invite_person,
    check_resend_invitation,
    check_revoke_invitation,
    do_accept_invitation,
    find_invitation,
    invitation_state,
)
from relaydesk.accounts.forms import AcceptInvitationForm, InviteForm, add_action_error
from relaydesk.accounts.models import Invitation, Role
from relaydesk.core.errors import RelaydeskError
from relaydesk.web.htmx import acting_user, admin_required


def _sent_page(request: HttpRequest, invitation: Invitation, raw_token: str, *, resent: bool) -> HttpResponse:
    """Confirm the invitation and show its link once, for when email is not set up yet."""
    link = settings.SITE_URL + reverse("accounts:accept_invitation", args=[raw_token])
    response = render(
        request,
        "accounts/admin/invitation_sent.html",
        {
            "nav_active": "admin_people",
            "invitation": invitation,
            "link": link,
            "resent": resent,
            "email_is_console": settings.EMAIL_BACKEND.endswith(
                ("console.EmailBackend", "dummy.EmailBackend")
            ),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@admin_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation, raw = check_invite_person(
                    acting_user(request),
                    email=data["email"],
                    full_name=data["full_name"],
                    role=data["role"],
                    level=data["level"],
                    teams=list(data["teams"]),
                    time_zone=data["time_zone"],
                )
            except RelaydeskError as exc:
                add_action_error(form, exc)
            else:
                return _sent_page(request, invitation, raw, resent=False)
    return render(
        request,
        "accounts/admin/invite.html",
        {"form": form, "nav_active": "admin_people", "roles": Role},
        status=status,
    )


@require_POST
@admin_required
def revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = check_revoke_invitation(acting_user(request), invitation_id=invitation_id)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The invitation for %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect(reverse("staff:people") + "#invitations")


@require_POST
@admin_required
def resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation, raw = check_resend_invitation(acting_user(request), invitation_id=invitation_id)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("staff:people") + "#invitations")
    return _sent_page(request, invitation, raw, resent=True)


@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Public: whoever holds the link sets a password and is signed in as the invited person."""
    invitation = find_invitation(token)
    state = invitation_state(invitation)
    if invitation is None or state != InvitationState.USABLE:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"message": INVITATION_ERRORS[state], "state": state},
            status=404 if state == InvitationState.UNKNOWN else 410,
        )
    form = AcceptInvitationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                user = do_accept_invitation(raw_token=token, password=form.cleaned_data["password1"])
            except RelaydeskError as exc:
                if exc.field == "token":
                    return render(
                        request,
                        "accounts/invitation_invalid.html",
                        {"message": exc.message, "state": "error"},
                        status=410,
                    )
                add_action_error(form, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request,
                    _("Welcome to Relaydesk, %(name)s! Start with what we promise our customers.")
                    % {"name": user.get_short_name()},
                )
                # A new colleague's first page is the service vision and the SLA table.
                return redirect("sla:vision")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"form": form, "invitation": invitation},
        status=status,
    )
