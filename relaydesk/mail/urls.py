"""The email channel's URLs: the inbound webhook, the admin screens, the ticket page's mail parts."""

from django.urls import include, path

app_name = "mail"

urlpatterns = [
    path("inbound/", include("relaydesk.mail.urls_webhook")),
    path("admin/", include("relaydesk.mail.urls_admin")),
    path("", include("relaydesk.mail.urls_ticket")),
]
