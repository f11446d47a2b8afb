from django.urls import URLPattern, URLResolver, path

from relaydesk.reports.views import sla_attainment

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("sla/", sla_attainment.sla_attainment, name="sla_attainment"),
]
