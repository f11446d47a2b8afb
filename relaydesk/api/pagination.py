"""Keyset pagination helpers for API lists that are not ticket queues.

Tickets page through ``tickets.queries.paginate`` (queue order). Other lists page by
primary key, or by (created_at, id) for timelines: constant cost per page, and stable
while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from relaydesk.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)
MAX_PAGE_SIZE = 100


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid; start again from the first page.", field="cursor")


def id_page(queryset: QuerySet[M], *, cursor: str | None, limit: int) -> Page[M]:
    """Rows in id order after ``cursor`` (the last id of the previous page)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if cursor:
        try:
            after = int(cursor)
        except ValueError:
            raise _bad_cursor() from None
        if after < 0:
            raise _bad_cursor()
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("pk")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=str(rows[-1].pk) if has_more and rows else None)


def _encode_time_cursor(created_at: datetime, pk: Any) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_time_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded))
        when = parse_datetime(created_at)
        if when is None or timezone.is_naive(when) or not isinstance(pk, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None
    return when, pk


def timeline_page(queryset: QuerySet[M], *, cursor: str | None, limit: int) -> Page[M]:
    """Rows in (created_at, id) order after ``cursor``; the model needs a ``created_at`` field."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if cursor:
        created_at, pk = _decode_time_cursor(cursor)
        queryset = queryset.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk))
    rows = list(queryset.order_by("created_at", "pk")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode_time_cursor(last.created_at, last.pk)  # type: ignore[attr-defined]
    return Page(items=rows, next_cursor=next_cursor)
