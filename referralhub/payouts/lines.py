"""A batch as payout lines (referralhub.payouts.files writes them as PayPal, Wise or CSV files).

One line per reward, or, for a batch grouped by person, one line per payee and currency: rows
stream from the database ordered by currency (the files want them so) and then by payee, so that
memory holds one group at a time however large the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import groupby
from typing import Any

from referralhub.models import PayoutBatch, PayoutItem, Promoter
from referralhub.payouts.files import PayoutLine
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


def _rows(batch: PayoutBatch, *order: str) -> Iterator[Any]:
    return (
        PayoutItem.objects.filter(batch=batch, state=PayoutItem.State.ACTIVE)
        .annotate(payout_email=payout_email("reward__"))
        .order_by("currency", *order, "reward_id")
        .values_list(*_FIELDS, named=True)
        .iterator(chunk_size=2000)
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


class BatchLines:
    """The batch's lines, read again from the database each time they are iterated: the files
    check every line before the first byte is sent, then write them."""

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
    rows = _rows(batch, "payout_email")
    for (currency, email), group in groupby(rows, key=lambda r: (r.currency, r.payout_email)):
        items = list(group)
        first = items[0]
        yield PayoutLine(
            reference=f"RH{batch.pk}-{first.reward_id}",
            name=_name(first),
            email=email,
            amount=sum((r.amount for r in items), Decimal(0)),
            currency=currency,
            note=f"{len(items)} referral reward{'s' if len(items) > 1 else ''} (payout {batch.pk})",
        )
