from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "relaydesk.reports"
    label = "reports"
