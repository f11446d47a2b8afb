"""Administration of teams and of the ticket taxonomy (tags, categories, products)."""

import pytest
from django.urls import reverse

from relaydesk.accounts import taxonomy
from relaydesk.accounts.actions import check_create_team
from relaydesk.accounts.models import Team
from relaydesk.core.errors import PermissionDenied, ValidationFailed
from relaydesk.tickets.models import Category, Product, Tag


def test_teams_page_lists_member_counts(client, world):
    client.force_login(world.ada)
    response = client.get(reverse("staff:teams"))
    assert response.status_code == 200
    counts = {team.name: team.member_count for team in response.context["teams"]}
    assert counts == {"Americas": 2, "EMEA": 1}


def test_create_and_edit_team(client, world):
    client.force_login(world.ada)
    response = client.post(
        reverse("staff:teams"),
        {"name": " APAC ", "region": "Asia Pacific", "time_zone": "Asia/Singapore", "is_active": "on"},
    )
    assert response.status_code == 302
    apac = Team.objects.get(name="APAC")
    assert (apac.region, apac.time_zone, apac.is_active) == ("Asia Pacific", "Asia/Singapore", True)
    assert client.get(reverse("staff:team", args=[apac.pk])).status_code == 200
    response = client.post(
        reverse("staff:team", args=[apac.pk]),
        {"name": "APAC South", "region": "", "time_zone": "Australia/Sydney", "description": "Night shift"},
    )
    assert response.status_code == 302
    apac.refresh_from_db()
    assert (apac.name, apac.time_zone, apac.description, apac.is_active) == (
        "APAC South",
        "Australia/Sydney",
        "Night shift",
        False,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"name": "emea", "time_zone": "UTC"},  # taken, whatever the case
        {"name": "", "time_zone": "UTC"},
        {"name": "New", "time_zone": "Nowhere/Land"},
        {"name": "x" * 101, "time_zone": "UTC"},
        {},
    ],
)
def test_garbage_team_post_is_a_form_error(client, world, data):
    client.force_login(world.ada)
    response = client.post(reverse("staff:teams"), data)
    assert response.status_code == 422
    assert Team.objects.count() == 2


def test_renaming_a_team_to_an_existing_name_is_refused(client, world):
    client.force_login(world.ada)
    response = client.post(
        reverse("staff:team", args=[world.americas.pk]), {"name": "EMEA", "time_zone": "UTC"}
    )
    assert response.status_code == 422
    assert b"already a team called EMEA" in response.content
    world.americas.refresh_from_db()
    assert world.americas.name == "Americas"


def test_only_admins_create_teams(world):
    with pytest.raises(PermissionDenied):
        check_create_team(world.sam, name="X", region="", time_zone="UTC", description="")
    assert Team.objects.count() == 2


def test_taxonomy_page_renders_empty_and_full(client, world):
    client.force_login(world.ada)
    response = client.get(reverse("staff:taxonomy"))
    assert response.status_code == 200
    assert b"No tags yet" in response.content
    Tag.objects.create(name="vip", color="#ff0000")
    Category.objects.create(name="Billing")
    Product.objects.create(name="Mobile app", is_active=False)
    response = client.get(reverse("staff:taxonomy"))
    assert b"vip" in response.content
    assert b"Billing" in response.content
    assert b"Mobile app" in response.content


def test_tag_create_rename_recolour_delete(client, world):
    client.force_login(world.ada)
    response = client.post(
        reverse("staff:tag_create"), {"tag-new-name": "Password Reset", "tag-new-color": "#AA00cc"}
    )
    assert response.status_code == 302
    tag = Tag.objects.get()
    assert (tag.name, tag.color) == ("password-reset", "#aa00cc")

    ticket = world.ticket(tags=["password-reset"])
    prefix = f"tag-{tag.pk}"
    response = client.post(
        reverse("staff:tag_update", args=[tag.pk]), {f"{prefix}-name": "login", f"{prefix}-color": "#00aa00"}
    )
    assert response.status_code == 302
    assert list(ticket.tags.values_list("name", flat=True)) == ["login"]

    page = client.get(reverse("staff:tag_delete", args=[tag.pk]))
    assert page.status_code == 200
    assert b"It is on 1 ticket" in page.content
    response = client.post(reverse("staff:tag_delete", args=[tag.pk]))
    assert response.status_code == 302
    assert not Tag.objects.exists()
    assert not ticket.tags.exists()


def test_tag_errors_are_form_errors(client, world):
    Tag.objects.create(name="vip")
    other = Tag.objects.create(name="bug")
    client.force_login(world.ada)
    for data in (
        {"tag-new-name": "VIP", "tag-new-color": "#000000"},
        {"tag-new-name": "!!!", "tag-new-color": "#000000"},
        {"tag-new-name": "ok", "tag-new-color": "red"},
        {},
    ):
        response = client.post(reverse("staff:tag_create"), data)
        assert response.status_code == 422
    prefix = f"tag-{other.pk}"
    response = client.post(
        reverse("staff:tag_update", args=[other.pk]), {f"{prefix}-name": "vip", f"{prefix}-color": "#000000"}
    )
    assert response.status_code == 422
    assert b"already a tag called vip" in response.content
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["bug", "vip"]


@pytest.mark.parametrize(("kind", "model"), [("category", Category), ("product", Product)])
def test_category_and_product_lifecycle(client, world, kind, model):
    client.force_login(world.ada)
    response = client.post(reverse("staff:item_create", args=[kind]), {f"{kind}-new-name": " Billing  "})
    assert response.status_code == 302
    item = model.objects.get()
    assert item.name == "Billing"
    response = client.post(
        reverse("staff:item_rename", args=[kind, item.pk]), {f"{kind}-{item.pk}-name": "Payments"}
    )
    assert response.status_code == 302
    response = client.post(reverse("staff:item_active", args=[kind, item.pk]), {"active": "0"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.is_active) == ("Payments", False)
    client.post(reverse("staff:item_active", args=[kind, item.pk]), {"active": "1"})
    item.refresh_from_db()
    assert item.is_active

    # Duplicates (any case) and empty names are form errors.
    model.objects.create(name="Refunds")
    for data in ({f"{kind}-new-name": "refunds"}, {f"{kind}-new-name": "   "}, {}):
        assert client.post(reverse("staff:item_create", args=[kind]), data).status_code == 422
    response = client.post(
        reverse("staff:item_rename", args=[kind, item.pk]), {f"{kind}-{item.pk}-name": "REFUNDS"}
    )
    assert response.status_code == 422
    assert model.objects.count() == 2


def test_unknown_taxonomy_kind_or_item_is_404(client, world):
    client.force_login(world.ada)
    assert client.post(reverse("staff:item_create", args=["planets"]), {"name": "x"}).status_code == 404
    response = client.post(reverse("staff:item_active", args=["category", 999]), {"active": "0"})
    assert response.status_code == 302  # redirected back with the error shown
    assert client.get(reverse("staff:tag_delete", args=[999])).status_code == 404


def test_only_admins_change_taxonomy(world):
    with pytest.raises(PermissionDenied):
        taxonomy.check_create_tag(world.sam, name="x")
    with pytest.raises(PermissionDenied):
        taxonomy.check_create_category(world.alice, name="x")
    assert not Tag.objects.exists()
    assert not Category.objects.exists()


def test_tag_name_rules():
    assert taxonomy.normalise_tag_name("  Password Reset! ") == "password-reset"
    with pytest.raises(ValidationFailed):
        taxonomy.clean_tag_name("???")
    with pytest.raises(ValidationFailed):
        taxonomy.clean_color("#12345")
