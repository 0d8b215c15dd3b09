"""CSV files: every list's "Download CSV", and the payout CSV.

A list's export is a `ListExport`: a file name and the columns, each a header in words and a
function from a row to its value. `ListExport.download` streams what the list's filters select,
every page of it, from a chunked query, so memory stays flat however many rows there are; every
value goes through `cell`, the one place that writes dates, amounts and formula-safe text.

The payout CSV is one row per promoter and unit, built while the database streams rewards ordered
by promoter and unit, so memory holds one group at a time. Both are written as every CSV for
spreadsheets is, by `referralhub.payouts.files` (`cell`, `spreadsheet_csv`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import formats, timezone

from referralhub.models import Promoter, Reward
from referralhub.payouts import files

HEADER = (
    "promoter",
    "email",
    "paypal_email",
    "amount",
    "unit",
    "currency",
    "rewards",
    "reward_ids",
    "provider_reward_ids",
    # Of those, the ones the provider denied or deleted after staff approved them: check before
    # paying them.
    "refused_by_provider",
)
# The query parameter that turns a list's page into its CSV file.
EXPORT_PARAMETER = "export"
CHUNK_ROWS = 2000


def cell(value: object) -> str:
    """A value as a CSV cell: dates and times in the dashboard's format and time zone, yes/no,
    and text that cannot start a formula (`referralhub.payouts.files.cell`)."""
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    elif isinstance(value, date):
        text = formats.date_format(value, "DATE_FORMAT")
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Decimal):
        # Amounts keep cents (12.50), and any finer digits a provider sent (0.125).
        cents = value.quantize(Decimal("0.01"))
        text = f"{cents:f}" if cents == value else f"{value.normalize():f}"
    else:
        text = str(value)
    return files.cell(text)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], object]


@dataclass(frozen=True)
class ListExport:
    """The CSV of one list: `name` starts the file's name, `columns` say what each row shows."""

    name: str
    columns: Sequence[Column]

    def rows(self, items: Iterable[Any]) -> Iterator[list[str]]:
        yield [column.header for column in self.columns]
        for item in items:
            yield [cell(column.value(item)) for column in self.columns]

    def stream(self, items: QuerySet | Iterable[Any]) -> StreamingHttpResponse:
        if isinstance(items, QuerySet):
            # A server-side cursor on PostgreSQL, fetched CHUNK_ROWS at a time; prefetches run
            # once per chunk.
            items = items.iterator(chunk_size=CHUNK_ROWS)
        lines = files.spreadsheet_csv(self.rows(items))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        # The staff's date (TIME_ZONE), as the pages show it.
        filename = f"{self.name}-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def download(
        self,
        request: HttpRequest,
        form: forms.Form,
        select: Callable[[dict[str, Any]], QuerySet | Iterable[Any]],
    ) -> HttpResponseBase:
        """What the list shows with the same filters, every page of it. Where the list ignores
        a filter it cannot read (and says so), the export refuses: ignoring it would export
        more than was asked for."""
        if not form.is_valid():
            messages.error(request, "Nothing was exported: correct the filters first.")
            return HttpResponseRedirect(list_url(request))
        return self.stream(select(form.cleaned_data))


def in_chunks(items: QuerySet, rows_of: Callable[[list[Any]], Iterable[Any]]) -> Iterator[Any]:
    """The rows a list builds from each page of `items` (`rows_of`, a fixed number of queries
    per call), built CHUNK_ROWS items at a time so that memory stays flat."""
    chunk: list[Any] = []
    for item in items.iterator(chunk_size=CHUNK_ROWS):
        chunk.append(item)
        if len(chunk) == CHUNK_ROWS:
            yield from rows_of(chunk)
            chunk = []
    if chunk:
        yield from rows_of(chunk)


def wanted(request: HttpRequest) -> bool:
    return request.GET.get(EXPORT_PARAMETER) == "csv"


def list_url(request: HttpRequest) -> str:
    """The page the export link was on: the same path and filters."""
    query = request.GET.copy()
    query.pop(EXPORT_PARAMETER, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _group_key(row: Any) -> tuple:
    return (row.promoter_id, row.unit, row.currency)


def _promoter_name(row: Any) -> str:
    if row.promoter_id is None:
        return ""
    return Promoter.name_of(
        row.promoter__first_name or "",
        row.promoter__last_name or "",
        row.promoter__email or "",
        row.promoter__external_id or "",
    )


def payout_rows(rewards: Iterable[Any]) -> Iterator[list[str]]:
    """The header, then one line per (promoter, unit, currency) run of `rewards`."""
    yield list(HEADER)
    for _, group in groupby(rewards, key=_group_key):
        items = list(group)
        first = items[0]
        amounts = [r.amount for r in items if r.amount is not None]
        total = sum(amounts, Decimal(0)) if amounts else None
        yield [
            cell(_promoter_name(first)),
            cell(first.promoter__email),
            cell(first.promoter__paypal_email),
            "" if total is None else f"{total.normalize():f}",
            cell(first.unit),
            cell(first.currency),
            str(len(items)),
            " ".join(str(r.id) for r in items),
            cell(" ".join(r.external_id for r in items)),
            cell(" ".join(r.external_id for r in items if _refused(r))),
        ]


def _refused(row: Any) -> bool:
    """Reward.refused_by_provider, for a plain row."""
    return row.provider_status in Reward.REFUSED_BY_PROVIDER
