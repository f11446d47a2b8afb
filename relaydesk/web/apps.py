from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "relaydesk.web"
    label = "web"
