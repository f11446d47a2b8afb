import pytest

from relaydesk.accounts.models import TokenScope
from relaydesk.customers.actions import check_create_contact
from relaydesk.customers.models import Contact, ContactEmail, Organization
from tests.api.conftest import ApiClient, assert_error, token_for

# --- contacts -----------------------------------------------------------------------------


def test_create_contact_matches_organization_by_domain(world, api_as):
    response = api_as(world.bob).post(
        "/contacts",
        {
            "name": "Erin Example",
            "emails": ["erin@acme.example", "erin@home.example"],
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Erin Example"
    assert body["email"] == "erin@acme.example"
    assert body["emails"] == [
        {"address": "erin@acme.example", "is_primary": True},
        {"address": "erin@home.example", "is_primary": False},
    ]
    assert body["organization"] == {"id": world.acme.pk, "name": "Acme"}
    assert body["time_zone"] == "Europe/Paris"


def test_create_contact_with_an_email_of_another_contact_names_the_field(world, api_as):
    response = api_as(world.alice).post("/contacts", {"name": "Impostor", "emails": ["Carol@ACME.example"]})
    error = assert_error(response, 422, "validation_error", "emails")
    assert "Carol Customer" in error["message"]
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "emails": ["x@example.com"]}, "name"),
        ({"emails": ["x@example.com"]}, "name"),
        ({"name": "X", "emails": "x@example.com"}, "emails"),
        ({"name": "X", "emails": ["nope"]}, "emails"),
        ({"name": "X", "emails": ["x@example.com"], "time_zone": "Mars/Base"}, "time_zone"),
        ({"name": "X", "emails": ["x@example.com"], "organization_id": 999_999}, "organization_id"),
        ({"name": "X", "emails": ["x@example.com"], "vip": True}, "vip"),
    ],
)
def test_create_contact_rejects_bad_fields_by_name(world, api_as, body, field):
    assert_error(api_as(world.alice).post("/contacts", body), 422, "validation_error", field)
    assert Contact.objects.count() == 2


def test_get_and_patch_contact(world, api_as):
    client = api_as(world.alice)
    assert client.get(f"/contacts/{world.dave.pk}").json()["email"] == "dave@globex.example"
    response = client.patch(
        f"/contacts/{world.dave.pk}",
        {
            "phone": "+49 30 1234",
            "emails": ["dave@new.example", "dave@globex.example"],
            "organization_id": None,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "+49 30 1234"
    assert body["email"] == "dave@new.example"
    assert body["name"] == "Dave Doe"
    assert body["organization"] is None


def test_patch_contact_errors(world, api_as):
    client = api_as(world.alice)
    assert_error(client.patch("/contacts/999999", {"name": "Ghost"}), 404, "not_found")
    assert_error(client.patch(f"/contacts/{world.dave.pk}", {"name": None}), 422, "validation_error", "name")
    refused = client.patch(f"/contacts/{world.dave.pk}", {"emails": ["carol@acme.example"]})
    assert_error(refused, 422, "validation_error", "emails")
    assert list(ContactEmail.objects.filter(contact=world.dave).values_list("address", flat=True)) == [
        "dave@globex.example"
    ]


def test_list_contacts_searches_and_pages(world, api_as):
    for index in range(3):
        check_create_contact(world.alice, name=f"Acme person {index}", emails=[f"p{index}@acme.example"])
    client = api_as(world.alice)
    first = client.get("/contacts", q="acme", limit="2").json()
    second = client.get("/contacts", q="acme", limit="2", cursor=first["next_cursor"]).json()
    names = [c["name"] for c in first["items"] + second["items"]]
    assert names == ["Carol Customer", "Acme person 0", "Acme person 1", "Acme person 2"]
    assert second["next_cursor"] is None
    assert_error(client.get("/contacts", cursor="x"), 422, "validation_error", "cursor")


def test_contact_list_query_count_is_constant(world, api_as, django_assert_num_queries):
    for index in range(20):
        check_create_contact(
            world.alice, name=f"P{index}", emails=[f"p{index}@acme.example", f"q{index}@x.example"]
        )
    client = api_as(world.alice)
    client.get("/contacts")
    # token, contacts with organization, their emails
    with django_assert_num_queries(3):
        assert len(client.get("/contacts", limit="100").json()["items"]) == 22


# --- organizations ------------------------------------------------------------------------


def test_organizations_create_get_list(world, api_as):
    client = api_as(world.sam)
    response = client.post(
        "/organizations", {"name": "Initech", "domain": "initech.example", "tier": "business"}
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["name"], created["domain"], created["tier"]) == ("Initech", "initech.example", "business")
    assert client.get(f"/organizations/{created['id']}").json()["name"] == "Initech"
    assert [o["name"] for o in client.get("/organizations").json()["items"]] == ["Acme", "Initech"]
    assert [o["name"] for o in client.get("/organizations", q="initech").json()["items"]] == ["Initech"]
    assert_error(client.get("/organizations/999999"), 404, "not_found")
    duplicate = client.post("/organizations", {"name": "Other", "domain": "initech.example"})
    assert_error(duplicate, 422, "validation_error", "domain")
    assert_error(
        client.post("/organizations", {"name": "X", "tier": "gold"}), 422, "validation_error", "tier"
    )
    assert Organization.objects.count() == 2


# --- users --------------------------------------------------------------------------------


def test_users_list_active_staff_with_teams(world, api_as, django_assert_num_queries):
    world.bob.is_active = False
    world.bob.save()
    client = api_as(world.alice)
    client.get("/users")
    # token, users, their teams
    with django_assert_num_queries(3):
        items = client.get("/users").json()["items"]
    assert [u["full_name"] for u in items] == ["Alice Agent", "Sam Supervisor", "Ada Admin"]
    alice = items[0]
    assert alice == {
        "id": world.alice.pk,
        "full_name": "Alice Agent",
        "email": "alice@relaydesk.test",
        "role": "agent",
        "level": "l1",
        "teams": [{"id": world.americas.pk, "name": "Americas"}],
        "time_zone": "America/New_York",
        "languages": [],
        "skills": [],
        "is_active": True,
    }
    team_members = client.get("/users", team=str(world.americas.pk)).json()["items"]
    assert [u["full_name"] for u in team_members] == ["Alice Agent", "Sam Supervisor"]
    assert [u["full_name"] for u in client.get("/users", q="ada").json()["items"]] == ["Ada Admin"]
    # A deactivated colleague is still readable by id: old tickets name them.
    assert client.get(f"/users/{world.bob.pk}").json()["is_active"] is False
    assert_error(client.get("/users/999999"), 404, "not_found")


def test_users_are_read_only_even_for_admins(world, api_as):
    response = api_as(world.ada).post("/users", {"full_name": "Mallory", "email": "m@example.com"})
    assert response.status_code == 405


def test_me_shows_the_session_or_token(world, client):
    assert ApiClient(token_for(world.sam, TokenScope.READ_WRITE)).get("/users/me").json()["token_scope"] == (
        "read_write"
    )
    client.force_login(world.sam)
    me = client.get("/api/v1/users/me").json()
    assert me["full_name"] == "Sam Supervisor"
    assert me["token_scope"] is None
