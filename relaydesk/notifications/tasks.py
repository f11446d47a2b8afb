"""Jobs for notifications: load by id, send. Safe to run twice (a second email is the only cost)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from huey.contrib.djhuey import db_task

from relaydesk.notifications.models import Notification


@db_task(retries=3, retry_delay=30)
def email_notification(notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None or not notification.recipient.is_active:
        return
    link = (
        f"{settings.SITE_URL}/tickets/{notification.ticket_id}/"
        if notification.ticket_id
        else settings.SITE_URL
    )
    # Subjects come from ticket subjects: strip line breaks so no header can be injected.
    subject = " ".join(f"[Relaydesk] {notification.text}".split())[:200]
    send_mail(
        subject=subject,
        message=(
            f"{notification.text}\n\n{link}\n\n"
            "Change which notifications you get by email on your profile page."
        ),
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
