from django.urls import URLPattern, URLResolver, path

from relaydesk.accounts.views import availability, invitations, profile

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("profile/", profile.profile, name="profile"),
    path("me/availability/", availability.set_availability, name="availability"),
    path("profile/details/", profile.update_details, name="profile_details"),
    path("profile/notifications/", profile.update_notifications, name="profile_notifications"),
    path("profile/tokens/", profile.create_token, name="token_create"),
    path("profile/tokens/<int:token_id>/revoke/", profile.revoke_token, name="token_revoke"),
    path("invite/<str:token>/", invitations.accept_invitation, name="accept_invitation"),
]
