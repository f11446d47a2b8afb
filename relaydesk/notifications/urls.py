from django.urls import URLPattern, URLResolver, path

from relaydesk.notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path("notifications/<int:notification_id>/", views.open_notification, name="open"),
]
