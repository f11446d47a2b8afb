"""Fetch-and-check helpers for contacts and organizations read by id.

Every active member of staff may see every contact: any of them may be asked to help
any customer. A deactivated account sees nothing.
"""

from __future__ import annotations

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound
from relaydesk.customers.models import Contact, Organization


def access_contact(user: User, contact_id: int, *, for_update: bool = False) -> Contact:
    """The contact with its organization (and emails, unless locking); NotFound otherwise.

    With ``for_update`` the row is locked; call inside ``transaction.atomic``.
    """
    if not user.is_active:
        raise NotFound(f"Contact {contact_id} does not exist.")
    queryset = Contact.objects.all()
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_related("organization").prefetch_related("emails")
    try:
        return queryset.get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Contact {contact_id} does not exist.") from None


def access_organization(user: User, organization_id: int) -> Organization:
    if not user.is_active:
        raise NotFound(f"Organization {organization_id} does not exist.")
    try:
        return Organization.objects.get(pk=organization_id)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Organization {organization_id} does not exist.") from None
