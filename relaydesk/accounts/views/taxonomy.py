"""Administration: tags (name, colour), categories and products (name, active)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relaydesk.accounts import taxonomy
from relaydesk.accounts.forms import NameForm, TagForm, add_action_error
from relaydesk.core.errors import RelaydeskError
from relaydesk.tickets.models import Category, Product, Tag
from relaydesk.web.htmx import acting_user, admin_required

# Which section of the page a form belongs to, so an error re-renders it in place.
SECTIONS = ("tags", "categories", "products")


def _render(
    request: HttpRequest, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    """The page; ``bound`` maps a form key ("tag-new", "tag-3", "category-new", …) to a form with errors."""
    bound = bound or {}

    def rows(
        items: list[Any], prefix: str, make: Callable[[Any], forms.Form]
    ) -> list[tuple[Any, forms.Form]]:
        return [(item, bound.get(f"{prefix}-{item.pk}") or make(item)) for item in items]

    return render(
        request,
        "accounts/admin/taxonomy.html",
        {
            "nav_active": "admin_taxonomy",
            "tag_rows": rows(
                list(Tag.objects.order_by("name")),
                "tag",
                lambda tag: TagForm(initial={"name": tag.name, "color": tag.color}, prefix=f"tag-{tag.pk}"),
            ),
            "category_rows": rows(
                list(Category.objects.order_by("-is_active", "name")),
                "category",
                lambda item: NameForm(initial={"name": item.name}, prefix=f"category-{item.pk}"),
            ),
            "product_rows": rows(
                list(Product.objects.order_by("-is_active", "name")),
                "product",
                lambda item: NameForm(initial={"name": item.name}, prefix=f"product-{item.pk}"),
            ),
            "new_tag_form": bound.get("tag-new") or TagForm(prefix="tag-new"),
            "new_category_form": bound.get("category-new") or NameForm(prefix="category-new"),
            "new_product_form": bound.get("product-new") or NameForm(prefix="product-new"),
        },
        status=status,
    )


def _done(request: HttpRequest, message: str, section: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("staff:taxonomy") + f"#{section}")


def _run(
    request: HttpRequest,
    form: forms.Form,
    key: str,
    section: str,
    action: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Validate ``form``, run ``action`` with its data; success message or the page with errors."""
    if form.is_valid():
        try:
            message = action(form.cleaned_data)
        except RelaydeskError as exc:
            add_action_error(form, exc)
        else:
            return _done(request, message, section)
    return _render(request, bound={key: form}, status=422)


@admin_required
def taxonomy_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


# --- tags ---------------------------------------------------------------------------------


@require_POST
@admin_required
def create_tag(request: HttpRequest) -> HttpResponse:
    admin = acting_user(request)

    def action(data: dict[str, Any]) -> str:
        tag = taxonomy.check_create_tag(admin, name=data["name"], color=data["color"])
        return _("Tag %(name)s was added.") % {"name": tag.name}

    return _run(request, TagForm(request.POST, prefix="tag-new"), "tag-new", "tags", action)


@require_POST
@admin_required
def update_tag(request: HttpRequest, tag_id: int) -> HttpResponse:
    admin = acting_user(request)

    def action(data: dict[str, Any]) -> str:
        tag = taxonomy.check_update_tag(admin, tag_id, name=data["name"], color=data["color"])
        return _("Tag %(name)s was saved.") % {"name": tag.name}

    key = f"tag-{tag_id}"
    return _run(request, TagForm(request.POST, prefix=key), key, "tags", action)


@admin_required
def delete_tag(request: HttpRequest, tag_id: int) -> HttpResponse:
    """GET: how many tickets carry the tag, and a confirm button. POST: delete it."""
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise Http404("No such tag")
    if request.method == "POST":
        try:
            name = taxonomy.check_delete_tag(acting_user(request), tag.pk)
        except RelaydeskError as exc:
            messages.error(request, exc.message)
            return redirect(reverse("staff:taxonomy") + "#tags")
        return _done(request, _("Tag %(name)s was deleted.") % {"name": name}, "tags")
    return render(
        request,
        "accounts/admin/tag_delete.html",
        {"nav_active": "admin_taxonomy", "tag": tag, "usage": taxonomy.tag_usage(tag)},
    )


# --- categories and products --------------------------------------------------------------

ITEM_ACTIONS = {
    "category": (taxonomy.check_create_category, taxonomy.check_update_category, "categories"),
    "product": (taxonomy.check_create_product, taxonomy.check_update_product, "products"),
}


def _kind(kind: str) -> tuple[Any, Any, str]:
    if kind not in ITEM_ACTIONS:
        raise Http404("No such list")
    return ITEM_ACTIONS[kind]


@require_POST
@admin_required
def create_item(request: HttpRequest, kind: str) -> HttpResponse:
    create, _update, section = _kind(kind)
    admin = acting_user(request)

    def action(data: dict[str, Any]) -> str:
        item = create(admin, name=data["name"])
        return _("%(name)s was added.") % {"name": item.name}

    key = f"{kind}-new"
    return _run(request, NameForm(request.POST, prefix=key), key, section, action)


@require_POST
@admin_required
def rename_item(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    _create, update, section = _kind(kind)
    admin = acting_user(request)

    def action(data: dict[str, Any]) -> str:
        item = update(admin, item_id, name=data["name"])
        return _("Renamed to %(name)s.") % {"name": item.name}

    key = f"{kind}-{item_id}"
    return _run(request, NameForm(request.POST, prefix=key), key, section, action)


@require_POST
@admin_required
def set_item_active(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    _create, update, section = _kind(kind)
    active = request.POST.get("active") == "1"
    try:
        item = update(acting_user(request), item_id, is_active=active)
    except RelaydeskError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("staff:taxonomy") + f"#{section}")
    if active:
        message = _("%(name)s is active again.") % {"name": item.name}
    else:
        message = _(
            "%(name)s was deactivated: it stays on existing tickets but can't be picked any more."
        ) % {"name": item.name}
    return _done(request, message, section)
