"""The administration screens, under /admin/ (admins only; every view checks)."""

from django.urls import URLPattern, URLResolver, path

from relaydesk.accounts.views import invitations, people, person, taxonomy, teams

app_name = "staff"

urlpatterns: list[URLPattern | URLResolver] = [
    path("people/", people.people, name="people"),
    path("people/invite/", invitations.invite, name="invite"),
    path("people/<int:person_id>/", person.person_detail, name="person"),
    path("people/<int:person_id>/deactivate/", person.deactivate, name="deactivate"),
    path("people/<int:person_id>/reactivate/", person.reactivate, name="reactivate"),
    path("people/<int:person_id>/reassign/", person.reassign, name="reassign"),
    path("invitations/<int:invitation_id>/revoke/", invitations.revoke, name="invitation_revoke"),
    path("invitations/<int:invitation_id>/resend/", invitations.resend, name="invitation_resend"),
    path("teams/", teams.teams, name="teams"),
    path("teams/<int:team_id>/", teams.team_detail, name="team"),
    path("taxonomy/", taxonomy.taxonomy_page, name="taxonomy"),
    path("taxonomy/tags/", taxonomy.create_tag, name="tag_create"),
    path("taxonomy/tags/<int:tag_id>/", taxonomy.update_tag, name="tag_update"),
    path("taxonomy/tags/<int:tag_id>/delete/", taxonomy.delete_tag, name="tag_delete"),
    path("taxonomy/<str:kind>/", taxonomy.create_item, name="item_create"),
    path("taxonomy/<str:kind>/<int:item_id>/", taxonomy.rename_item, name="item_rename"),
    path("taxonomy/<str:kind>/<int:item_id>/active/", taxonomy.set_item_active, name="item_active"),
]
