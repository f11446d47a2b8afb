"""Mounted at /mail/inbound/ inside the "mail" namespace (relaydesk/mail/urls.py)."""

from django.urls import URLPattern, path

from relaydesk.mail.views import webhook

urlpatterns: list[URLPattern] = [
    path("<int:mailbox_id>/", webhook.inbound, name="inbound_webhook"),
]
