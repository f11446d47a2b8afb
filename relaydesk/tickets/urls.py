from django.urls import path

from relaydesk.tickets.views import attachments, create, queue, ticket

app_name = "tickets"

urlpatterns = [
    path("", queue.my_tickets, name="queue"),
    path("tickets/unassigned/", queue.unassigned, name="unassigned"),
    path("tickets/all/", queue.all_open, name="all"),
    path("tickets/team/<int:team_id>/", queue.team_queue, name="team"),
    path("tickets/views/<int:view_id>/", queue.saved_view, name="saved_view"),
    path("tickets/views/save/", queue.save_view, name="save_view"),
    path("tickets/views/<int:view_id>/delete/", queue.delete_view, name="delete_view"),
    path("tickets/search/", queue.search, name="search"),
    path("tickets/nav-counts/", queue.nav_counts, name="nav_counts"),
    path("tickets/bulk/", queue.bulk, name="bulk"),
    path("tickets/new/", create.create_ticket, name="create"),
    path("tickets/contacts/search/", create.contact_picker, name="contact_picker"),
    path("tickets/<int:ticket_id>/", ticket.ticket_detail, name="detail"),
    path("tickets/<int:ticket_id>/update/", ticket.ticket_update, name="update"),
    path("tickets/<int:ticket_id>/messages/", ticket.add_message, name="add_message"),
    path("tickets/<int:ticket_id>/assign-to-me/", ticket.assign_to_me, name="assign_to_me"),
    path("tickets/<int:ticket_id>/resolve/", ticket.resolve, name="resolve"),
    path("tickets/<int:ticket_id>/merge/", ticket.merge, name="merge"),
    path("attachments/<int:attachment_id>/", attachments.download, name="attachment"),
]
