"""Pages without COUNT(*): fetch one row more than the page to know whether a next page exists.

Counting a million-row table on every page costs more than rendering the page; staff page through
lists and filter them, they do not need "page 3 of 20 000".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 10_000  # deeper than this, filter instead: OFFSET gets slow


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if number > 0 else default


def page_size(request: HttpRequest) -> int:
    size = _positive(request.GET.get("size"), DEFAULT_PAGE_SIZE)
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def paginate(queryset: QuerySet, request: HttpRequest) -> Page:
    """One query for the page, whatever its size."""
    size = page_size(request)
    number = min(_positive(request.GET.get("page"), 1), MAX_PAGE)
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(items=rows[:size], number=number, size=size, has_next=len(rows) > size)
