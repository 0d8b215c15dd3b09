"""The payout CSV: one row per promoter and unit, with the rewards it sums up.

Rows are built while the database streams rewards ordered by promoter and unit, so memory holds
one group at a time however large the export.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import groupby
from typing import Any, Final

from referralhub.models import Promoter, Reward

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
# Every field is quoted, so that a separator inside one (a `;` in a name, Excel's separator in
# many locales) cannot start a new cell.
QUOTING: Final = csv.QUOTE_ALL
# A cell starting with one of these is a formula in spreadsheet programs: names and emails come
# from the providers, so they are defused with a leading apostrophe, at the start of the cell and
# after any character a spreadsheet may split cells or lines on (`R1;=1+1;` opened with `;` as
# the separator is three cells, the second a formula).
FORMULA = re.compile(r"(^|[,;|\t\r\n])(?=[=+\-@\t\r])")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return FORMULA.sub(r"\1'", text)


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
