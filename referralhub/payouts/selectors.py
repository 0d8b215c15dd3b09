"""Reads about payouts: which rewards can be paid, which are held or paid in the hub, and why a
reward is left out of a batch. The services (batches.py) write; everything here only reads, and
other features reuse `in_payout_batch`, `paid_in_hub` and `with_payout`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from referralhub.models import (
    AMOUNT,
    PayoutBatch,
    PayoutItem,
    Promoter,
    Reward,
    Unit,
    format_amount,
)

_ACTIVE_ITEM = PayoutItem.objects.filter(reward=OuterRef("pk"), state=PayoutItem.State.ACTIVE)


def in_payout_batch() -> Q:
    """Rewards held by an open or paid batch: not to be batched again, denied or reopened."""
    return Q(Exists(_ACTIVE_ITEM))


def paid_in_hub() -> Q:
    """Rewards staff marked paid in a payout batch (and did not reverse)."""
    return Q(Exists(_ACTIVE_ITEM.filter(batch__status=PayoutBatch.Status.PAID)))


def with_payout(rewards: QuerySet[Reward]) -> QuerySet[Reward]:
    """Each reward's active payout batch, when it has one: `payout_batch_id`,
    `payout_batch_status`, `payout_paid_at` and `payout_paid_by` (a username), None otherwise."""
    item = _ACTIVE_ITEM.order_by()
    return rewards.annotate(
        payout_batch_id=Subquery(item.values("batch_id")[:1]),
        payout_batch_status=Subquery(item.values("batch__status")[:1]),
        payout_paid_at=Subquery(item.values("batch__paid_at")[:1]),
        payout_paid_by=Subquery(item.values("batch__paid_by__username")[:1]),
    )


_UNKNOWN = object()


def attach_payout_batches(rewards: list[Reward]) -> None:
    """Set `payout_batch_id` on each reward (as `with_payout` does), in one query."""
    held = dict(
        PayoutItem.objects.filter(
            reward__in=[r.pk for r in rewards], state=PayoutItem.State.ACTIVE
        ).values_list("reward_id", "batch_id")
    )
    for reward in rewards:
        reward.payout_batch_id = held.get(reward.pk)  # type: ignore[attr-defined]


def payout_batch_of(reward: Reward) -> int | None:
    """The id of the open or paid batch holding `reward`, or None. Read from `with_payout`'s
    annotation when the reward was loaded with it, else with one query."""
    annotated = getattr(reward, "payout_batch_id", _UNKNOWN)
    if annotated is not _UNKNOWN:
        return annotated  # type: ignore[return-value]
    return (
        PayoutItem.objects.filter(reward=reward, state=PayoutItem.State.ACTIVE)
        .values_list("batch_id", flat=True)
        .first()
    )


# Where a payout goes: the referee's email for a referee's reward; for a promoter's, the PayPal
# address they gave the provider, else their own email (FirstPromoter leaves paypal_email null
# until a promoter fills in their payout settings, and the other providers have none).
def payout_email(prefix: str = "") -> Case:
    """The address a reward is paid to; `prefix` reaches the reward from another model."""
    return Case(
        When(
            **{f"{prefix}beneficiary": Reward.Beneficiary.LEAD},
            then=Coalesce(F(f"{prefix}lead__email"), Value("")),
        ),
        default=Coalesce(
            NullIf(F(f"{prefix}promoter__paypal_email"), Value("")),
            F(f"{prefix}promoter__email"),
            Value(""),
        ),
    )


@dataclass(frozen=True)
class PayoutWarning:
    code: str
    text: str
    condition: Q
    # A warning that cannot be knowingly included: there is nothing to put on a payout line.
    blocking: bool = False


WARNINGS: tuple[PayoutWarning, ...] = (
    PayoutWarning(
        "no_amount",
        "no amount above zero: nothing to pay",
        Q(amount__isnull=True) | Q(amount__lte=0),
        blocking=True,
    ),
    PayoutWarning(
        "not_cash", "not cash (free months, points, credits or no unit)", ~Q(unit=Unit.CASH)
    ),
    PayoutWarning(
        "no_payout_email", "no payout email (no PayPal address and no email)", Q(payout_email="")
    ),
    PayoutWarning(
        "refused_by_provider",
        "the provider has since denied or deleted it",
        Q(provider_status__in=Reward.REFUSED_BY_PROVIDER),
    ),
    PayoutWarning(
        "paid_at_provider",
        "the provider says it is already paid",
        Q(date_paid__isnull=False),
    ),
)
WARNING_TEXT = {w.code: w.text for w in WARNINGS}


@dataclass(frozen=True)
class BatchFilters:
    """Which approved rewards a batch is made of; empty values do not filter."""

    provider: str = ""
    campaign: int | None = None
    currency: str = ""
    approved_from: date | None = None
    approved_to: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "campaign": self.campaign,
            "currency": self.currency,
            "approved_from": self.approved_from.isoformat() if self.approved_from else None,
            "approved_to": self.approved_to.isoformat() if self.approved_to else None,
        }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def candidates(filters: BatchFilters) -> QuerySet[Reward]:
    """Approved rewards in no open or paid batch, within `filters`, with their payout email."""
    rewards = Reward.objects.filter(status=Reward.Status.APPROVED).exclude(in_payout_batch())
    if filters.provider:
        rewards = rewards.filter(provider=filters.provider)
    if filters.campaign is not None:
        rewards = rewards.filter(campaign_id=filters.campaign)
    if filters.currency:
        rewards = rewards.filter(currency__iexact=filters.currency)
    if filters.approved_from:
        rewards = rewards.filter(decided_at__gte=_start_of(filters.approved_from))
    if filters.approved_to:
        rewards = rewards.filter(decided_at__lt=_start_of(filters.approved_to) + timedelta(days=1))
    return rewards.annotate(payout_email=payout_email())


def any_warning() -> Q:
    condition = Q()
    for warning in WARNINGS:
        condition |= warning.condition
    return condition


def blocking_warning() -> Q:
    condition = Q(pk__in=[])
    for warning in WARNINGS:
        if warning.blocking:
            condition |= warning.condition
    return condition


@dataclass(frozen=True)
class WarnedReward:
    reward_id: int
    external_id: str
    provider: str
    payee: str
    amount: str
    codes: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return any(w.blocking for w in WARNINGS if w.code in self.codes)

    @property
    def texts(self) -> list[str]:
        return [WARNING_TEXT[code] for code in self.codes]


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    total: Decimal

    @property
    def display(self) -> str:
        return format_amount(self.total, Unit.CASH, self.currency)


@dataclass
class Preview:
    totals: list[CurrencyTotal]
    warned: list[WarnedReward]
    warned_count: int

    @property
    def count(self) -> int:
        return sum(t.count for t in self.totals)


# A preview lists at most this many warned rewards, each with its checkbox.
MAX_WARNED_SHOWN = 500


def currency_totals(rewards: QuerySet[Any]) -> list[CurrencyTotal]:
    """Count and sum per currency, in one grouped query (rows or items alike)."""
    rows = (
        rewards.order_by()
        .values("currency")
        .annotate(count=Count("pk"), total=Coalesce(Sum("amount"), Value(0), output_field=_AMOUNT))
        .order_by("currency")
    )
    return [CurrencyTotal(r["currency"].upper(), r["count"], r["total"]) for r in rows]


_AMOUNT: DecimalField = DecimalField(**AMOUNT)


def warned_rewards(rewards: QuerySet[Reward], limit: int = MAX_WARNED_SHOWN) -> list[WarnedReward]:
    """The rewards of `rewards` that carry a warning, with every code that applies."""
    flags = {
        w.code: Case(When(w.condition, then=Value(True)), default=Value(False)) for w in WARNINGS
    }
    rows = (
        rewards.filter(any_warning())
        .annotate(**{f"warn_{code}": flag for code, flag in flags.items()})
        .order_by("pk")
        .values(
            "pk",
            "external_id",
            "provider",
            "amount",
            "unit",
            "currency",
            "payout_email",
            "promoter__first_name",
            "promoter__last_name",
            "promoter__email",
            "promoter__external_id",
            *(f"warn_{code}" for code in flags),
        )[:limit]
    )
    return [_warned(row, flags) for row in rows]


def _warned(row: dict[str, Any], flags: dict[str, Any]) -> WarnedReward:
    payee = row["payout_email"] or Promoter.name_of(
        row["promoter__first_name"] or "",
        row["promoter__last_name"] or "",
        row["promoter__email"] or "",
        row["promoter__external_id"] or "",
    )
    return WarnedReward(
        reward_id=row["pk"],
        external_id=row["external_id"],
        provider=row["provider"],
        payee=payee if row["promoter__external_id"] or row["payout_email"] else "",
        amount=format_amount(row["amount"], row["unit"], row["currency"]),
        codes=tuple(code for code in flags if row[f"warn_{code}"]),
    )


def batch_preview(filters: BatchFilters) -> Preview:
    """What a batch made now from `filters` would hold, before anyone confirms it."""
    rewards = candidates(filters)
    # One pass over the candidates (and their promoters and leads, for the payout email) counts
    # both sides of the warnings per currency, where a total and a count of the warned would
    # each read them all.
    clean = ~any_warning()
    rows = (
        rewards.order_by()
        .values("currency")
        .annotate(
            count=Count("pk", filter=clean),
            total=Coalesce(Sum("amount", filter=clean), Value(0), output_field=_AMOUNT),
            warned=Count("pk", filter=any_warning()),
        )
        .order_by("currency")
    )
    totals, warned_count = [], 0
    for row in rows:
        warned_count += row["warned"]
        if row["count"]:
            totals.append(CurrencyTotal(row["currency"].upper(), row["count"], row["total"]))
    return Preview(totals=totals, warned=warned_rewards(rewards), warned_count=warned_count)


def batch_totals(batch: PayoutBatch) -> list[CurrencyTotal]:
    """What the batch pays (or paid), per currency."""
    return currency_totals(batch.items.filter(state=PayoutItem.State.ACTIVE))


def batch_items(batch: PayoutBatch) -> QuerySet[PayoutItem]:
    return batch.items.select_related("reward", "reward__promoter").order_by("currency", "id")


def batch_list() -> QuerySet[PayoutBatch]:
    """Batches, newest first, each with its active item count."""
    return PayoutBatch.objects.select_related("created_by", "paid_by").annotate(
        reward_count=Count("items", filter=Q(items__state=PayoutItem.State.ACTIVE))
    )


def in_chunks(rows: QuerySet[Any], key: str, size: int) -> Iterator[list[Any]]:
    """`rows` (a `values_list` whose first column is `key`, unique) in lists of `size`, ordered
    by `key`, each list one query starting after the last (keyset). Nothing stays open on the
    connection between lists: a server-side cursor abandoned half-way would be closed by the
    garbage collector whenever it runs, possibly in the middle of another query on the same
    connection, which psycopg's connection lock turns into a deadlock."""
    rows = rows.order_by(key)
    chunk = list(rows[:size])
    while chunk:
        yield chunk
        if len(chunk) < size:
            return
        chunk = list(rows.filter(**{f"{key}__gt": chunk[-1][0]})[:size])


def active_ids(batch: PayoutBatch, size: int) -> Iterator[list[int]]:
    items = batch.items.filter(state=PayoutItem.State.ACTIVE).values_list("reward_id")
    for chunk in in_chunks(items, "reward_id", size):
        yield [reward_id for (reward_id,) in chunk]
