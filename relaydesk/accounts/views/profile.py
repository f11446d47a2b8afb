"""Your profile: name, time zone, languages, email notifications and personal API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relaydesk.accounts.actions import check_update_profile
from relaydesk.accounts.forms import (
    NotificationPreferencesForm,
    ProfileForm,
    TokenCreateForm,
    add_action_error,
)
from relaydesk.accounts.models import ApiToken, User
from relaydesk.accounts.tokens import TOKEN_PREFIX, do_create_token, do_revoke_token
from relaydesk.core.errors import RelaydeskError
from relaydesk.notifications.actions import do_set_email_preferences
from relaydesk.web.htmx import acting_user, is_htmx, render_page_or_partial, staff_required

MAX_TOKENS_LISTED = 100


def _context(
    user: User,
    *,
    details_form: ProfileForm | None = None,
    notifications_form: NotificationPreferencesForm | None = None,
    token_form: TokenCreateForm | None = None,
    new_token: str | None = None,
    token_error: str | None = None,
) -> dict[str, Any]:
    return {
        "nav_active": "profile",
        "details_form": details_form
        or ProfileForm(
            initial={"full_name": user.full_name, "time_zone": user.time_zone, "languages": user.languages}
        ),
        "notifications_form": notifications_form or NotificationPreferencesForm(user=user),
        "token_form": token_form or TokenCreateForm(),
        "tokens": list(ApiToken.objects.filter(user=user).order_by("-created_at")[:MAX_TOKENS_LISTED]),
        "new_token": new_token,
        "token_error": token_error,
        "token_prefix": TOKEN_PREFIX,
    }


def _render(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render_page_or_partial(
        request, "accounts/profile.html", "accounts/_tokens.html", context, status=status
    )


@require_GET
@staff_required
def profile(request: HttpRequest) -> HttpResponse:
    return _render(request, _context(acting_user(request)))


@require_POST
@staff_required
def update_details(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            check_update_profile(
                user,
                full_name=form.cleaned_data["full_name"],
                time_zone=form.cleaned_data["time_zone"],
                languages=form.cleaned_data["languages"],
            )
        except RelaydeskError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("Your details were saved."))
            return redirect("accounts:profile")
    user.refresh_from_db()
    return _render(request, _context(user, details_form=form), status=422)


@require_POST
@staff_required
def update_notifications(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = NotificationPreferencesForm(request.POST, user=user)
    if not form.is_valid():  # only booleans: every input is valid, but stay defensive
        return _render(request, _context(user, notifications_form=form), status=422)
    do_set_email_preferences(user=user, preferences=form.preferences())
    messages.success(request, _("Your email notification settings were saved."))
    return redirect(reverse("accounts:profile") + "#notifications")


@require_POST
@staff_required
def create_token(request: HttpRequest) -> HttpResponse:
    """Create a token and show it once, in this response only: it is never stored or redirected."""
    user = acting_user(request)
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            _token, raw = do_create_token(
                user=user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except RelaydeskError as exc:
            add_action_error(form, exc)
        else:
            response = _render(request, _context(user, new_token=raw))
            # The page holds a secret: keep it out of caches and the back/forward cache.
            response["Cache-Control"] = "no-store"
            return response
    # htmx only swaps 2xx responses: the token card with its errors comes back as 200 there.
    status = 200 if is_htmx(request) else 422
    return _render(request, _context(user, token_form=form), status=status)


@require_POST
@staff_required
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        token = do_revoke_token(user=user, token_id=token_id)
    except RelaydeskError as exc:
        return _render(request, _context(user, token_error=exc.message))
    if is_htmx(request):
        return _render(request, _context(user))
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect(reverse("accounts:profile") + "#api-tokens")
