"""A batch as payout lines (referralhub.payouts.files writes them as PayPal, Wise or CSV files).

One line per reward, or, for a batch grouped by person, one line per person and currency across
providers (referralhub.models.people: promoters with the same address, or merged by staff): rows
stream from the database ordered by currency (the files want them so) and then by payee, so that
memory holds one group at a time however large the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Concat

from referralhub.models import PayoutBatch, PayoutItem, Promoter, Reward, person_key
from referralhub.payouts.files import PayoutLine, UniqueReferences
from referralhub.payouts.selectors import payout_email

_FIELDS = (
    "reward_id",
    "amount",
    "currency",
    "payout_email",
    "reward__external_id",
    "reward__beneficiary",
    "reward__lead__name",
    "reward__lead__email",
    "reward__promoter__first_name",
    "reward__promoter__last_name",
    "reward__promoter__email",
    "reward__promoter__external_id",
)


CHUNK = 5000


def _rows(batch: PayoutBatch, *order: str) -> Iterator[Any]:
    """The batch's active items, `CHUNK` rows per query, each query starting after the last row
    of the one before (keyset): memory holds one chunk, and no database cursor stays open
    between chunks, so a download abandoned half-way leaves nothing behind on the connection.

    The keyset runs within one currency at a time: with the currency fixed, a chunk ordered by
    id alone is a range of the (batch, state, currency, id) index that stops after `CHUNK`
    rows, where an `(currency, id) > (…)` condition written as ORs is no index range, and every
    chunk would join and sort the whole batch again."""
    items = PayoutItem.objects.filter(batch=batch, state=PayoutItem.State.ACTIVE)
    currencies = items.order_by("currency").values_list("currency", flat=True).distinct()
    keys = (*order, "id")
    annotations: dict[str, Any] = {"payout_email": payout_email("reward__")}
    if "payee" in order:
        annotations["payee"] = _payee()
    for currency in list(currencies):
        rows = (
            items.filter(currency=currency)
            .annotate(**annotations)
            .order_by(*keys)
            .values_list(*_FIELDS, *order, "id", named=True)
        )
        chunk = list(rows[:CHUNK])
        while chunk:
            yield from chunk
            if len(chunk) < CHUNK:
                break
            last = chunk[-1]
            chunk = list(rows.filter(_after(keys, [getattr(last, key) for key in keys]))[:CHUNK])


def _after(keys: tuple[str, ...], values: list[Any]) -> Q:
    """Rows that come after `values` in the order of `keys` (all ascending, none null)."""
    condition = Q(pk__in=[])
    for i, key in enumerate(keys):
        equal = {k: v for k, v in zip(keys[:i], values[:i], strict=True)}
        condition |= Q(**equal, **{f"{key}__gt": values[i]})
    return condition


def _payee() -> Case:
    """Who a line pays, for grouping: the person behind the promoter (one across providers,
    staff merges followed), or for a referee's reward the referee's payout address."""
    return Case(
        When(
            reward__beneficiary=Reward.Beneficiary.LEAD,
            then=Concat(Value("referee "), F("reward__lead_id"), output_field=CharField()),
        ),
        default=person_key("reward__promoter__"),
        output_field=CharField(),
    )


def _name(row: Any) -> str:
    if row.reward__beneficiary == "lead":
        return row.reward__lead__name or row.reward__lead__email or ""
    return Promoter.name_of(
        row.reward__promoter__first_name or "",
        row.reward__promoter__last_name or "",
        row.reward__promoter__email or "",
        row.reward__promoter__external_id or "",
    )


def reference(batch: PayoutBatch, row: Any) -> str:
    """Unique in the batch, at most 30 characters, no spaces: `RH<batch>-<reward id>`."""
    return f"RH{batch.pk}-{row.reward_id}"


class BatchLines(UniqueReferences):
    """The batch's lines, read again from the database each time they are iterated: the files
    check every line before the first byte is sent, then write them. A reference names a
    reward of the batch, and a reward is in a batch once (`payoutitem_one_active`), so the
    references are unique."""

    def __init__(self, batch: PayoutBatch) -> None:
        self.batch = batch

    def __iter__(self) -> Iterator[PayoutLine]:
        return batch_lines(self.batch)


def batch_lines(batch: PayoutBatch) -> Iterator[PayoutLine]:
    if batch.grouping == PayoutBatch.Grouping.PERSON:
        yield from _person_lines(batch)
        return
    for row in _rows(batch):
        yield PayoutLine(
            reference=reference(batch, row),
            name=_name(row),
            email=row.payout_email,
            amount=row.amount,
            currency=row.currency,
            note=f"Referral reward {row.reward__external_id} (payout {batch.pk})"[:255],
        )


def _person_lines(batch: PayoutBatch) -> Iterator[PayoutLine]:
    rows = _rows(batch, "payee")
    for _, group in groupby(rows, key=lambda r: (r.currency, r.payee)):
        items = list(group)
        first = items[0]
        yield PayoutLine(
            reference=reference(batch, first),
            name=_name(first),
            email=first.payout_email,
            amount=sum((r.amount for r in items), Decimal(0)),
            currency=first.currency,
            note=f"{len(items)} referral reward{'s' if len(items) > 1 else ''} (payout {batch.pk})",
        )
