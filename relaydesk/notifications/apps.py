from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "relaydesk.notifications"
    label = "notifications"
