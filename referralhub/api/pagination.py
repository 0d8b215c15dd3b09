"""Pagination that refuses what it cannot honour (400) instead of quietly guessing.

Page numbers for the small tables; cursors for leads, rewards and deliveries, which grow to
millions of rows: a cursor is a `WHERE created < x` on an index, stable under inserts, where an
`OFFSET` would scan every row before the page and shift when rows arrive.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request

from referralhub.api.filters import as_utc

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_POSITIVE = re.compile(r"[1-9][0-9]{0,17}")  # fits a 64-bit integer


def _positive(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _POSITIVE.fullmatch(raw) or (maximum is not None and int(raw) > maximum):
        limit = f" between 1 and {maximum}" if maximum else ""
        raise ValidationError({name: [f"Expected a whole number{limit}, got {raw[:50]!r}."]})
    return int(raw)


def _page_size_parameter() -> dict[str, Any]:
    return {
        "name": "page_size",
        "required": False,
        "in": "query",
        "description": f"Results per page (default {DEFAULT_PAGE_SIZE}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "example": 25,
    }


class PagePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        return _positive(request, "page_size", self.page_size, self.max_page_size)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        number = _positive(request, "page", 1)
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise NotFound(f"There is no page {number}: {exc}") from exc
        self.display_page_controls = paginator.num_pages > 1
        return list(self.page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
                "example": 1,
            },
            _page_size_parameter(),
        ]


class Cursor(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering = ("-created", "-id")
    invalid_cursor_message = "Invalid cursor: use the `next` or `previous` link as given."

    def get_page_size(self, request: Request) -> int:
        return _positive(request, "page_size", self.page_size, self.max_page_size)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any] | None:
        self.model = queryset.model
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc
        except (DjangoValidationError, ValueError, OverflowError) as exc:
            # A forged cursor whose position is not a value of the ordering field.
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc

    def decode_cursor(self, request: Request) -> Any:
        """The position comes from the client: check it is a value of the ordering field (and a
        date-time in UTC) before it reaches a query."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        position = field.to_python(cursor.position)
        if isinstance(position, datetime):
            position = as_utc(position)
        # DRF keeps the position as the text the cursor carried; its stubs say int.
        return cursor._replace(position=str(position))  # type: ignore[arg-type]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Opaque position: pass the `next` or `previous` link unchanged.",
                "schema": {"type": "string"},
                "example": "cD0yMDI2LTExLTIyKzEwJTNBMDAlM0EwMCUyQjAwJTNBMDA=",
            },
            _page_size_parameter(),
        ]


class ReceivedCursor(Cursor):
    ordering = ("-received_at", "-id")
