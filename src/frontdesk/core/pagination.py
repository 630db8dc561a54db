"""Keyset (cursor) pagination: pages stay fast however deep a client walks.

A cursor is the sort key of the last row seen, encoded opaquely; the next
page is `WHERE (key, id) < (last_key, last_id)`, served by a composite index.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q

from frontdesk.core.errors import InvalidInput

T = TypeVar("T", bound=models.Model)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not one this server issued.", field="cursor") from None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput("The cursor is not one this server issued.", field="cursor")
    return values


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    return limit


def keyset_page(
    queryset: models.QuerySet[T],
    *,
    key: str,
    descending: bool,
    cursor: str | None,
    limit: int,
    key_is_datetime: bool = False,
) -> Page[T]:
    """One page of `queryset` ordered by (key, id), both descending or both ascending."""
    limit = check_limit(limit)
    if cursor:
        last_key, last_id = decode_cursor(cursor, size=2)
        if key_is_datetime:
            try:
                last_key = datetime.fromisoformat(last_key)
            except (TypeError, ValueError):
                raise InvalidInput(
                    "The cursor is not one this server issued.", field="cursor"
                ) from None
        if not isinstance(last_id, int):
            raise InvalidInput("The cursor is not one this server issued.", field="cursor")
        op = "lt" if descending else "gt"
        # The redundant `key <= last` bound lets the planner use it as an index range.
        queryset = queryset.filter(
            Q(**{f"{key}__{op}e": last_key}),
            Q(**{f"{key}__{op}": last_key}) | Q(**{f"id__{op}": last_id}),
        )
    order = [f"-{key}", "-id"] if descending else [key, "id"]
    rows = list(queryset.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, key), last.pk])
    return Page(items=rows, next_cursor=next_cursor)
