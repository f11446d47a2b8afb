"""Every administration URL: 200 for an admin, 403 for everyone else signed in, sign-in for strangers.

On every denied request, nothing changes.
"""

import pytest
from django.urls import reverse

from relaydesk.accounts.models import ApiToken, Invitation, Role, Team, User
from relaydesk.tickets.models import Category, Product, Tag, Ticket


@pytest.fixture
def objects(world):
    invitation = Invitation.objects.create(
        email="x@relaydesk.test",
        full_name="X",
        token_hash="0" * 64,
        expires_at="2999-01-01T00:00:00Z",
    )
    return {
        "tag": Tag.objects.create(name="vip"),
        "category": Category.objects.create(name="Billing"),
        "product": Product.objects.create(name="App"),
        "invitation": invitation,
        "ticket": world.ticket(assignee=world.alice),
    }


def admin_urls(world, objects):
    """(method, url, data) for every admin screen and action."""
    alice = world.alice.pk
    tag = objects["tag"].pk
    category = objects["category"].pk
    invitation = objects["invitation"].pk
    return [
        ("get", reverse("staff:people"), None),
        ("get", reverse("staff:invite"), None),
        ("post", reverse("staff:invite"), {"email": "y@relaydesk.test", "full_name": "Y", "role": "admin"}),
        ("get", reverse("staff:person", args=[alice]), None),
        ("post", reverse("staff:person", args=[alice]), {"role": Role.ADMIN, "level": "l2", "capacity": "1"}),
        ("get", reverse("staff:deactivate", args=[alice]), None),
        ("post", reverse("staff:deactivate", args=[alice]), {"reassign_to": ""}),
        ("post", reverse("staff:reactivate", args=[alice]), {}),
        ("post", reverse("staff:reassign", args=[alice]), {"reassign_to": ""}),
        ("post", reverse("staff:invitation_revoke", args=[invitation]), {}),
        ("post", reverse("staff:invitation_resend", args=[invitation]), {}),
        ("get", reverse("staff:teams"), None),
        ("post", reverse("staff:teams"), {"name": "Hackers", "time_zone": "UTC"}),
        ("get", reverse("staff:team", args=[world.emea.pk]), None),
        ("post", reverse("staff:team", args=[world.emea.pk]), {"name": "Pwned", "time_zone": "UTC"}),
        ("get", reverse("staff:taxonomy"), None),
        ("post", reverse("staff:tag_create"), {"tag-new-name": "evil", "tag-new-color": "#000000"}),
        (
            "post",
            reverse("staff:tag_update", args=[tag]),
            {f"tag-{tag}-name": "x", f"tag-{tag}-color": "#000000"},
        ),
        ("get", reverse("staff:tag_delete", args=[tag]), None),
        ("post", reverse("staff:tag_delete", args=[tag]), {}),
        ("post", reverse("staff:item_create", args=["category"]), {"category-new-name": "Evil"}),
        (
            "post",
            reverse("staff:item_rename", args=["category", category]),
            {f"category-{category}-name": "E"},
        ),
        ("post", reverse("staff:item_active", args=["category", category]), {"active": "0"}),
        ("post", reverse("staff:item_create", args=["product"]), {"product-new-name": "Evil"}),
    ]


def snapshot():
    return {
        "users": sorted(
            User.objects.values_list("pk", "role", "level", "is_active", "capacity", "deactivated_at")
        ),
        "memberships": sorted(User.teams.through.objects.values_list("user_id", "team_id")),
        "teams": sorted(Team.objects.values_list("pk", "name", "time_zone", "is_active")),
        "tags": sorted(Tag.objects.values_list("pk", "name", "color")),
        "categories": sorted(Category.objects.values_list("pk", "name", "is_active")),
        "products": sorted(Product.objects.values_list("pk", "name", "is_active")),
        "invitations": sorted(Invitation.objects.values_list("pk", "token_hash", "revoked_at", "expires_at")),
        "tickets": sorted(Ticket.objects.values_list("pk", "assignee_id", "status")),
        "tokens": ApiToken.objects.count(),
    }


@pytest.mark.parametrize("who", ["alice", "bob", "sam"])
def test_non_admins_get_403_everywhere_and_nothing_changes(client, world, objects, who, mailoutbox):
    client.force_login(getattr(world, who))
    before = snapshot()
    for method, url, data in admin_urls(world, objects):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 403, (method, url)
    assert snapshot() == before
    assert mailoutbox == []


def test_strangers_are_sent_to_sign_in(client, world, objects):
    before = snapshot()
    for method, url, data in admin_urls(world, objects):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))
    assert snapshot() == before


def test_admin_sees_every_admin_screen(client, world, objects):
    client.force_login(world.ada)
    for method, url, _data in admin_urls(world, objects):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_deactivated_admin_is_locked_out(client, world, objects):
    world.ada.is_active = False
    world.ada.save()
    client.force_login(world.ada)
    response = client.get(reverse("staff:people"))
    assert response.status_code in (302, 403)
