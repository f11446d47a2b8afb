"""Jobs for accounts: load by id, act. Safe to run twice (a second email is the only cost)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from huey.contrib.djhuey import db_task

from relaydesk.accounts.actions import InvitationState, hash_invitation_token, invitation_state
from relaydesk.accounts.models import Invitation


@db_task(retries=3, retry_delay=30)
def send_invitation_email(invitation_id: int, raw_token: str) -> None:
    """Email the accept link.

    The raw token has to travel with the job because only its hash is stored; the job
    row is deleted once it runs. A job for a link that was since replaced (resent),
    revoked, accepted or expired sends nothing.
    """
    invitation = Invitation.objects.select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation_state(invitation) != InvitationState.USABLE:
        return
    if invitation.token_hash != hash_invitation_token(raw_token):
        return
    link = settings.SITE_URL + reverse("accounts:accept_invitation", args=[raw_token])
    inviter = invitation.invited_by.full_name if invitation.invited_by else "An admin"
    expires = invitation.expires_at.strftime("%d %b %Y %H:%M UTC")
    send_mail(
        subject="You're invited to Relaydesk",
        message=(
            f"Hello {invitation.full_name},\n\n"
            f"{inviter} invited you to join the support team on Relaydesk.\n\n"
            f"Open this link to choose your password and sign in:\n{link}\n\n"
            f"The link works once and expires on {expires}.\n"
            "If you weren't expecting this, you can ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
