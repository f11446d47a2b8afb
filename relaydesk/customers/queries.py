"""Reads of contacts and organizations, shared by the agent UI and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from relaydesk.accounts.models import User
from relaydesk.core.errors import ValidationFailed
from relaydesk.customers.models import Contact, ContactEmail, Organization

MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200


def _contacts_matching(text: str) -> QuerySet[Contact]:
    queryset = Contact.objects.all()
    text = " ".join(text.replace("\x00", "").split())[:MAX_SEARCH_LENGTH]
    if text:
        # A subquery on the addresses, not a join: a contact with three matching
        # addresses still comes back once, without DISTINCT.
        by_email = ContactEmail.objects.filter(address__icontains=text).values("contact_id")
        queryset = queryset.filter(Q(name__icontains=text) | Q(pk__in=by_email))
    return queryset


def search_contacts(user: User, text: str, limit: int = 20) -> list[Contact]:
    """Contacts whose name or an email contains ``text``, by name, with emails and organization loaded.

    This is the requester picker: two queries whatever the number of results.
    """
    if not user.is_active:
        return []
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = _contacts_matching(text).select_related("organization").prefetch_related("emails")
    return list(queryset.order_by("name", "id")[:limit])


def _after_id(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(cursor)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationFailed("The cursor is not valid; start again from the first page.", field="cursor")
    return value


@dataclass
class ContactPage:
    contacts: list[Contact]
    next_cursor: str | None


def contact_page(user: User, *, text: str = "", cursor: str | None = None, limit: int = 50) -> ContactPage:
    """One page of contacts in id order after ``cursor`` (the last id seen), optionally searched.

    Keyset on the primary key: stable while contacts are added, constant cost per page.
    """
    if not user.is_active:
        return ContactPage(contacts=[], next_cursor=None)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = _contacts_matching(text)
    after = _after_id(cursor)
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    rows = list(
        queryset.select_related("organization").prefetch_related("emails").order_by("id")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return ContactPage(contacts=rows, next_cursor=str(rows[-1].pk) if has_more and rows else None)


@dataclass
class OrganizationPage:
    organizations: list[Organization]
    next_cursor: str | None


def organization_page(
    user: User, *, text: str = "", cursor: str | None = None, limit: int = 50
) -> OrganizationPage:
    """One page of organizations in id order after ``cursor``; ``text`` matches name or domain."""
    if not user.is_active:
        return OrganizationPage(organizations=[], next_cursor=None)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = Organization.objects.all()
    text = " ".join(text.replace("\x00", "").split())[:MAX_SEARCH_LENGTH]
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(domain__icontains=text))
    after = _after_id(cursor)
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return OrganizationPage(organizations=rows, next_cursor=str(rows[-1].pk) if has_more and rows else None)
