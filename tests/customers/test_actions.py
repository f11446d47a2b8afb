import pytest

from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.customers.actions import (
    check_create_contact,
    check_create_organization,
    check_update_contact,
    find_or_create_contact_by_email,
)
from relaydesk.customers.models import Contact, ContactEmail, Organization, Tier


def emails_of(contact: Contact) -> list[tuple[str, bool]]:
    return [(e.address, e.is_primary) for e in ContactEmail.objects.filter(contact=contact).order_by("id")]


def test_create_contact_first_email_is_primary_and_domain_picks_organization(world):
    contact = check_create_contact(
        world.alice,
        name="  Erin\n Example ",
        emails=["erin@ACME.example", "erin.private@mail.example", "ERIN@acme.example"],
        phone="+1 555 0100",
        language="pt-BR",
        time_zone="America/Sao_Paulo",
    )
    assert contact.name == "Erin Example"
    assert contact.organization == world.acme
    assert contact.language == "pt-BR"
    assert contact.time_zone == "America/Sao_Paulo"
    # The duplicate (differing only in case) is dropped, not stored twice.
    assert emails_of(contact) == [("erin@ACME.example", True), ("erin.private@mail.example", False)]


def test_create_contact_keeps_explicit_organization(world):
    globex = Organization.objects.create(name="Globex", domain="globex.example")
    contact = check_create_contact(
        world.bob, name="Frank", emails=["frank@acme.example"], organization=globex
    )
    assert contact.organization == globex


def test_create_contact_without_matching_domain_has_no_organization(world):
    contact = check_create_contact(world.alice, name="Gina", emails=["gina@nowhere.example"])
    assert contact.organization is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "cannot be empty"),
        ({"name": "x" * 201}, "name", "longer than"),
        ({"emails": ["not-an-email"]}, "emails", "not a valid email"),
        ({"emails": [], "phone": ""}, "emails", "at least an email"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known time zone"),
        ({"language": "english!"}, "language", "language code"),
        ({"phone": "1" * 41}, "phone", "longer than"),
        ({"name": "Nul\x00Byte"}, "name", "NUL"),
    ],
)
def test_create_contact_validation_names_the_field(world, fields, field, message):
    arguments = {"name": "Hank", "emails": ["hank@example.com"], **fields}
    with pytest.raises(ValidationFailed, match=message) as caught:
        check_create_contact(world.alice, **arguments)
    assert caught.value.field == field
    assert not Contact.objects.filter(name="Hank").exists()


def test_email_of_another_contact_is_refused_case_insensitively(world):
    before = Contact.objects.count()
    with pytest.raises(ValidationFailed, match="already belongs to Carol Customer") as caught:
        check_create_contact(world.alice, name="Impostor", emails=["new@example.com", "CAROL@acme.example"])
    assert caught.value.field == "emails"
    assert Contact.objects.count() == before
    assert not ContactEmail.objects.filter(address="new@example.com").exists()


def test_deactivated_user_cannot_create_contacts(world):
    world.alice.is_active = False
    world.alice.save()
    with pytest.raises(PermissionDenied):
        check_create_contact(world.alice, name="Ivy", emails=["ivy@example.com"])
    assert not Contact.objects.filter(name="Ivy").exists()


def test_phone_only_contact_is_allowed(world):
    contact = check_create_contact(world.alice, name="Caller", emails=[], phone="+49 30 1234")
    assert contact.emails.count() == 0
    assert contact.phone == "+49 30 1234"


def test_find_or_create_by_email_finds_case_insensitively(world):
    assert find_or_create_contact_by_email("  Carol@ACME.example ") == world.carol
    assert Contact.objects.count() == 2


def test_find_or_create_by_email_creates_with_organization(world):
    contact = find_or_create_contact_by_email("jo@acme.example", name="Jo  Jones")
    assert contact.name == "Jo Jones"
    assert contact.organization == world.acme
    assert emails_of(contact) == [("jo@acme.example", True)]
    # A second call (another channel, same person) finds the same contact.
    assert find_or_create_contact_by_email("JO@acme.example") == contact


def test_find_or_create_without_name_uses_local_part(world):
    assert find_or_create_contact_by_email("kim@example.com").name == "kim"


def test_find_or_create_rejects_invalid_address(world):
    with pytest.raises(ValidationFailed) as caught:
        find_or_create_contact_by_email("nobody")
    assert caught.value.field == "email"


def _lose_the_insert_race(monkeypatch, address):
    """Another process inserts ``address`` between our lookup and our insert."""
    from relaydesk.customers import actions

    real_lookup = actions._organizations_by_domain

    raced: list[bool] = []

    def lookup_then_lose_the_race(domains):
        if not raced:  # the other process wins once
            raced.append(True)
            actions.do_create_contact(name="Winner", emails=[address])
        return real_lookup(domains)

    monkeypatch.setattr(actions, "_organizations_by_domain", lookup_then_lose_the_race)


def test_find_or_create_survives_losing_the_insert_race(world, monkeypatch):
    _lose_the_insert_race(monkeypatch, "race@example.com")
    contact = find_or_create_contact_by_email("race@example.com", name="Loser")
    assert contact.name == "Winner"
    assert ContactEmail.objects.filter(address__iexact="race@example.com").count() == 1


def test_find_or_create_many_at_once(world, monkeypatch):
    """Known, new and raced addresses in one call: one contact per address, duplicates merged."""
    from relaydesk.customers.actions import find_or_create_contacts_by_email

    known = find_or_create_contact_by_email("known@example.com", name="Known")
    _lose_the_insert_race(monkeypatch, "race@example.com")
    found = find_or_create_contacts_by_email(
        [
            ("KNOWN@example.com", "Ignored"),
            ("new@example.com", "New"),
            ("race@example.com", "Loser"),
            ("New@Example.com", "Twice"),
        ]
    )
    assert set(found) == {"known@example.com", "new@example.com", "race@example.com"}
    assert found["known@example.com"] == known
    assert found["new@example.com"].name == "New"
    assert found["race@example.com"].name == "Winner"
    assert ContactEmail.objects.filter(address__iexact="new@example.com").count() == 1


def test_update_contact_changes_only_given_fields(world):
    contact = check_update_contact(
        world.bob, world.carol.pk, name="Carol C. Customer", time_zone="Europe/Paris"
    )
    contact.refresh_from_db()
    assert contact.name == "Carol C. Customer"
    assert contact.time_zone == "Europe/Paris"
    assert contact.organization == world.acme
    assert contact.language == "en"


def test_update_contact_replaces_emails_keeping_rows_and_primary_first(world):
    original = world.carol.emails.get()
    check_update_contact(world.alice, world.carol.pk, emails=["carol.new@acme.example", "Carol@acme.example"])
    assert emails_of(world.carol) == [("Carol@acme.example", False), ("carol.new@acme.example", True)]
    assert world.carol.emails.filter(pk=original.pk).exists()


def test_update_contact_refuses_email_of_another_contact(world):
    with pytest.raises(ValidationFailed, match="belongs to Dave Doe") as caught:
        check_update_contact(world.alice, world.carol.pk, name="Renamed", emails=["dave@globex.example"])
    assert caught.value.field == "emails"
    world.carol.refresh_from_db()
    assert world.carol.name == "Carol Customer"
    assert emails_of(world.carol) == [("carol@acme.example", True)]


def test_update_contact_can_clear_organization(world):
    check_update_contact(world.alice, world.carol.pk, organization=None)
    world.carol.refresh_from_db()
    assert world.carol.organization is None


def test_update_missing_contact_is_not_found(world):
    with pytest.raises(NotFound):
        check_update_contact(world.alice, 999_999, name="Ghost")


def test_create_organization_and_its_domain_is_unique(world):
    org = check_create_organization(world.sam, name="Initech", domain="@Initech.Example", tier=Tier.BUSINESS)
    assert (org.domain, org.tier) == ("initech.example", Tier.BUSINESS)
    with pytest.raises(ValidationFailed) as caught:
        check_create_organization(world.alice, name="Initech 2", domain="initech.example")
    assert caught.value.field == "domain"
    with pytest.raises(ValidationFailed) as caught:
        check_create_organization(world.alice, name="initech")
    assert caught.value.field == "name"
    with pytest.raises(ValidationFailed) as caught:
        check_create_organization(world.alice, name="Umbrella", tier="platinum")
    assert caught.value.field == "tier"
    assert Organization.objects.count() == 2


def test_email_lookup_can_use_the_lower_index(world):
    """LOWER(address) = … is what the functional unique index serves; iexact's UPPER() would scan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        contact = find_or_create_contact_by_email("CAROL@Acme.Example")
    assert contact == world.carol
    lookups = [q["sql"] for q in queries.captured_queries if "customers_contactemail" in q["sql"]]
    assert lookups
    assert all("UPPER(" not in sql for sql in lookups)
    assert any('LOWER("customers_contactemail"."address")' in sql for sql in lookups)
