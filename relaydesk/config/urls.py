from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
    path("api/v1/", include("relaydesk.api.urls")),
    path("admin/", include("relaydesk.accounts.urls_admin")),
    path("sla/", include("relaydesk.sla.urls")),
    path("reports/", include("relaydesk.reports.urls")),
    path("mail/", include("relaydesk.mail.urls")),
    path("", include("relaydesk.accounts.urls")),
    path("", include("relaydesk.notifications.urls")),
    path("", include("relaydesk.tickets.urls")),
]
