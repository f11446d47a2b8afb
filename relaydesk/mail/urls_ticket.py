from django.urls import path

from relaydesk.mail.views import ticket_mail

urlpatterns = [
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/original/", ticket_mail.original, name="original"
    ),
    path("tickets/<int:ticket_id>/messages/<int:message_id>/raw/", ticket_mail.raw, name="raw"),
    path("tickets/<int:ticket_id>/followers/add/", ticket_mail.follower_add, name="follower_add"),
    path("tickets/<int:ticket_id>/followers/remove/", ticket_mail.follower_remove, name="follower_remove"),
]
