"""The payout CSV: one row per promoter and unit, with the rewards it sums up.

Rows are built while the database streams rewards ordered by promoter and unit, so memory holds
one group at a time however large the export. The file is written as every payout CSV for
spreadsheets is, by `referralhub.payouts.files` (`cell`, `spreadsheet_csv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import groupby
from typing import Any

from referralhub.models import Promoter, Reward
from referralhub.payouts.files import cell

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
