import pytest

from relaydesk.core.errors import ValidationFailed
from relaydesk.customers.actions import check_create_contact
from relaydesk.customers.queries import contact_page, organization_page, search_contacts


def test_search_by_name_or_email_returns_each_contact_once(world):
    check_create_contact(world.alice, name="Carla Other", emails=["c1@acme.example", "c2@acme.example"])
    names = [c.name for c in search_contacts(world.alice, "acme.example")]
    assert names == ["Carla Other", "Carol Customer"]
    assert [c.name for c in search_contacts(world.alice, "DAVE")] == ["Dave Doe"]
    assert [c.name for c in search_contacts(world.alice, "globex")] == ["Dave Doe"]
    assert search_contacts(world.alice, "zzz") == []


def test_search_loads_emails_in_a_constant_number_of_queries(world, django_assert_num_queries):
    for index in range(5):
        check_create_contact(world.alice, name=f"Person {index}", emails=[f"p{index}@x.example"])
    # One query for contacts (with organization), one for all their emails.
    with django_assert_num_queries(2):
        contacts = search_contacts(world.alice, "", limit=50)
        assert [c.primary_email for c in contacts][:1] == ["carol@acme.example"]
    assert len(contacts) == 7


def test_search_is_empty_for_a_deactivated_user(world):
    world.bob.is_active = False
    assert search_contacts(world.bob, "carol") == []


def test_contact_page_keyset(world):
    for index in range(3):
        check_create_contact(world.alice, name=f"Person {index}", emails=[f"p{index}@x.example"])
    first = contact_page(world.alice, limit=2)
    assert [c.name for c in first.contacts] == ["Carol Customer", "Dave Doe"]
    second = contact_page(world.alice, cursor=first.next_cursor, limit=2)
    assert [c.name for c in second.contacts] == ["Person 0", "Person 1"]
    third = contact_page(world.alice, cursor=second.next_cursor, limit=2)
    assert [c.name for c in third.contacts] == ["Person 2"]
    assert third.next_cursor is None


@pytest.mark.parametrize("cursor", ["abc", "-5", "1.5"])
def test_bad_cursor_is_a_validation_error(world, cursor):
    with pytest.raises(ValidationFailed) as caught:
        contact_page(world.alice, cursor=cursor)
    assert caught.value.field == "cursor"


def test_organization_page_searches_name_and_domain(world):
    assert [o.name for o in organization_page(world.alice, text="acme.ex").organizations] == ["Acme"]
    assert organization_page(world.alice, text="nothing").organizations == []
