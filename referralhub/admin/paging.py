"""Pages of a million-row changelist without counting a million rows."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """A paginator whose `count` never scans a whole large table.

    Unfiltered, on PostgreSQL, it trusts the planner's row estimate (`pg_class.reltuples`) once that
    is above `exact_up_to`; otherwise it counts at most `exact_up_to + 1` rows, so a filter that
    matches millions costs a bounded scan and the page says "more than 10,000".
    """

    object_list: QuerySet[Any]

    exact_up_to = 10_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_is_estimate = False
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = table_estimate(queryset.model, queryset.db)
            if estimate is not None and estimate > self.exact_up_to:
                self.count_is_estimate = True
                return estimate
        counted = queryset.order_by()[: self.exact_up_to + 1].count()
        self.count_is_capped = counted > self.exact_up_to
        return counted


def table_estimate(model: type[models.Model], using: str) -> int | None:
    """PostgreSQL's estimate of a table's rows (kept fresh by autovacuum), None when unknown."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    # -1 means "never analysed" (PostgreSQL 14+).
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
