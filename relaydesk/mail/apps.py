from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "relaydesk.mail"
    label = "mail"
    verbose_name = "Email channel"
