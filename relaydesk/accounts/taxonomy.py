"""Admin actions for the ticket taxonomy: tags, categories and products.

They live beside the other administration actions; the models are ``tickets.models``.
Categories and products are never deleted (tickets point at them and reports group by
them): they are deactivated, which hides them from pickers. Tags can be deleted: they
are labels, and deleting one removes it from every ticket.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Model

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.tickets.models import Category, Product, Tag

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_TAG_COLOR = "#64748b"


def _require_admin(user: User) -> None:
    if not user.is_active or not user.is_admin:
        raise PermissionDenied("Only admins can manage tags, categories and products.")


def normalise_tag_name(name: str) -> str:
    """The slug rule ``tickets.actions`` applies to typed tags: ``Password reset`` → ``password-reset``."""
    return re.sub(r"[^\w-]+", "-", (name or "").strip().lower()).strip("-")[:50]


def clean_tag_name(name: str) -> str:
    slug = normalise_tag_name(name)
    if not slug:
        raise ValidationFailed("Give the tag a name made of letters, digits or dashes.", field="name")
    return slug


def clean_color(color: str) -> str:
    value = (color or "").strip()
    if not COLOR_RE.match(value):
        raise ValidationFailed("Pick a colour like #3366cc.", field="color")
    return value.lower()


def _check_tag_name_free(name: str, *, exclude_id: int | None = None) -> None:
    clash = Tag.objects.filter(name=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationFailed(f"There is already a tag called {name}.", field="name")


def check_create_tag(admin: User, *, name: str, color: str = DEFAULT_TAG_COLOR) -> Tag:
    _require_admin(admin)
    slug = clean_tag_name(name)
    clean = clean_color(color)
    with transaction.atomic():
        _check_tag_name_free(slug)
        try:
            with transaction.atomic():
                return Tag.objects.create(name=slug, color=clean)
        except IntegrityError:
            raise ValidationFailed(f"There is already a tag called {slug}.", field="name") from None


def check_update_tag(admin: User, tag_id: int, *, name: str, color: str) -> Tag:
    """Rename or recolour a tag; tickets keep it (they point at the row, not the name)."""
    _require_admin(admin)
    slug = clean_tag_name(name)
    clean = clean_color(color)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise NotFound("That tag does not exist.")
        _check_tag_name_free(slug, exclude_id=tag.pk)
        tag.name = slug
        tag.color = clean
        try:
            with transaction.atomic():
                tag.save(update_fields=["name", "color"])
        except IntegrityError:
            raise ValidationFailed(f"There is already a tag called {slug}.", field="name") from None
    return tag


def tag_usage(tag: Tag) -> int:
    """How many tickets carry ``tag`` (one indexed count, for the delete confirmation)."""
    return Tag.tickets.through.objects.filter(tag_id=tag.pk).count()


def check_delete_tag(admin: User, tag_id: int) -> str:
    """Delete a tag and remove it from every ticket; returns its name."""
    _require_admin(admin)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise NotFound("That tag does not exist.")
        name = tag.name
        tag.delete()
    return name


# --- categories and products share one shape: a unique name and an active flag -------------


def _clean_item_name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise ValidationFailed("Enter a name.", field="name")
    if len(clean) > 100:
        raise ValidationFailed("The name is longer than 100 characters.", field="name")
    return clean


def _label(model: type[Category] | type[Product]) -> str:
    return "category" if model is Category else "product"


def _check_item_name_free(
    model: type[Category] | type[Product], name: str, *, exclude_id: int | None = None
) -> None:
    clash = model.objects.filter(name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationFailed(f"There is already a {_label(model)} called {name}.", field="name")


def _create_item(admin: User, model: type[Category] | type[Product], *, name: str) -> Model:
    _require_admin(admin)
    clean = _clean_item_name(name)
    with transaction.atomic():
        _check_item_name_free(model, clean)
        try:
            with transaction.atomic():
                return model.objects.create(name=clean)
        except IntegrityError:
            raise ValidationFailed(
                f"There is already a {_label(model)} called {clean}.", field="name"
            ) from None


def _update_item(
    admin: User,
    model: type[Category] | type[Product],
    item_id: int,
    *,
    name: str | None = None,
    is_active: bool | None = None,
) -> Model:
    _require_admin(admin)
    clean = _clean_item_name(name) if name is not None else None
    with transaction.atomic():
        item = model.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound(f"That {_label(model)} does not exist.")
        fields = []
        if clean is not None:
            _check_item_name_free(model, clean, exclude_id=item.pk)
            item.name = clean
            fields.append("name")
        if is_active is not None:
            item.is_active = is_active
            fields.append("is_active")
        if fields:
            try:
                with transaction.atomic():
                    item.save(update_fields=fields)
            except IntegrityError:
                raise ValidationFailed(
                    f"There is already a {_label(model)} called {clean}.", field="name"
                ) from None
    return item


def check_create_category(admin: User, *, name: str) -> Category:
    item = _create_item(admin, Category, name=name)
    assert isinstance(item, Category)
    return item


def check_update_category(
    admin: User, category_id: int, *, name: str | None = None, is_active: bool | None = None
) -> Category:
    item = _update_item(admin, Category, category_id, name=name, is_active=is_active)
    assert isinstance(item, Category)
    return item


def check_create_product(admin: User, *, name: str) -> Product:
    item = _create_item(admin, Product, name=name)
    assert isinstance(item, Product)
    return item


def check_update_product(
    admin: User, product_id: int, *, name: str | None = None, is_active: bool | None = None
) -> Product:
    item = _update_item(admin, Product, product_id, name=name, is_active=is_active)
    assert isinstance(item, Product)
    return item
