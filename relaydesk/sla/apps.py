from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "relaydesk.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from relaydesk.sla import table  # noqa: F401  (connects the signals that mark the table changed)
