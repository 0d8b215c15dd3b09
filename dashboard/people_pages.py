"""Reads behind the people pages: the list's rows and everything on a person's page, each kind
of row in one query, so a page costs the same number of queries whatever its size."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from dashboard.selectors import RELATED_ROWS, audit_history_for
from referralhub.models import (
    Lead,
    PayoutBatch,
    PayoutItem,
    Person,
    Promoter,
    Promotion,
    Reward,
    format_amount,
)
from referralhub.people import look_alike_of, promoters_of


@dataclass(frozen=True)
class PersonRow:
    """A person in the people list, with the promoter records behind it."""

    person: Any  # Person, annotated with `looks_alike`
    promoters: list[Promoter]
    addresses: int  # its own and those merged into it

    @property
    def name(self) -> str:
        named = [p for p in self.promoters if p.first_name or p.last_name]
        return (named or self.promoters)[0].display_name if self.promoters else self.person.key

    @property
    def providers(self) -> list[str]:
        return sorted({p.get_provider_display() for p in self.promoters})

    @property
    def companies(self) -> list[str]:
        return sorted({p.company_name for p in self.promoters if p.company_name})

    @property
    def codes(self) -> list[str]:
        return sorted({code for p in self.promoters if (code := p.code or p.default_ref_id)})


PERSON_ROW_FIELDS = (
    "provider",
    "external_id",
    "email",
    "person_key",
    "first_name",
    "last_name",
    "company_name",
    "code",
    "default_ref_id",
)


def people_rows(people: list[Person]) -> list[PersonRow]:
    """The page's people with their promoters: two queries whatever the page size."""
    merged = Person.objects.filter(merged_into__in=people).values_list("key", "merged_into_id")
    owner = {p.key: p.pk for p in people} | dict(merged)
    promoters: dict[int, list[Promoter]] = {p.pk: [] for p in people}
    rows = Promoter.objects.filter(person_key__in=owner).only(*PERSON_ROW_FIELDS)
    for promoter in rows.order_by("created", "id"):
        promoters[owner[promoter.person_key]].append(promoter)
    addresses = Counter(owner.values())
    return [PersonRow(p, promoters[p.pk], addresses[p.pk]) for p in people]


def person_page(person: Person) -> dict[str, Any]:
    """Everything on a person's page, each kind of row in one query."""
    promoters = list(
        promoters_of(person).select_related("campaign").defer("payload").order_by("provider", "id")
    )
    ids = [p.pk for p in promoters]
    merged = list(person.merged.order_by("key"))
    # Payloads are not shown here, and can be large.
    rewards = Reward.objects.filter(promoter_id__in=ids).defer("payload")
    return {
        "row": PersonRow(person, promoters, 1 + len(merged)),
        "promoters": promoters,
        "merged": merged,
        "look_alikes": list(look_alike_of(person)),
        "promotions": list(
            Promotion.objects.filter(promoter_id__in=ids)
            .select_related("campaign")
            .defer("payload")
            .order_by("-created", "-id")[:RELATED_ROWS]
        ),
        "leads": list(
            Lead.objects.filter(promoter_id__in=ids)
            .select_related("campaign")
            .defer("payload")
            .order_by("-created", "-id")[:RELATED_ROWS]
        ),
        "rewards": list(
            rewards.select_related("lead")
            .defer("lead__payload")
            .order_by("-created", "-id")[:RELATED_ROWS]
        ),
        "totals": reward_totals(rewards),
        "payouts": payouts_of(ids),
        "history": audit_history_for(Person, [person.pk, *(m.pk for m in merged)]),
        "related_rows": RELATED_ROWS,
    }


@dataclass(frozen=True)
class PayoutShare:
    """A person's part of one payout batch, in one currency and item state."""

    batch_id: int
    batch_status: str
    created: datetime
    paid_at: datetime | None
    state: str
    rewards: int
    amount: str


def payouts_of(promoter_ids: list[int]) -> list[PayoutShare]:
    """The payout batches these promoters' rewards went into, newest first, in one query."""
    rows = (
        PayoutItem.objects.filter(reward__promoter_id__in=promoter_ids)
        .values(
            "batch_id",
            "batch__status",
            "batch__created",
            "batch__paid_at",
            "state",
            "unit",
            "currency",
        )
        .annotate(rewards=Count("pk"), total=Sum("amount"))
        .values_list(
            "batch_id",
            "batch__status",
            "batch__created",
            "batch__paid_at",
            "state",
            "rewards",
            "total",
            "unit",
            "currency",
        )
        .order_by("-batch__created", "-batch_id", "state", "unit", "currency")
    )
    statuses, states = dict(PayoutBatch.Status.choices), dict(PayoutItem.State.choices)
    return [
        PayoutShare(
            batch,
            statuses[status],
            created,
            paid_at,
            states[state],
            count,
            format_amount(total, unit, currency),
        )
        for batch, status, created, paid_at, state, count, total, unit, currency in rows[
            :RELATED_ROWS
        ]
    ]


@dataclass(frozen=True)
class Total:
    """Rewards of one unit and currency: how many, and their amounts by the hub's decision."""

    count: int
    approved: str
    pending: str
    denied: str


def reward_totals(rewards: QuerySet[Reward]) -> list[Total]:
    """Lifetime totals per unit and currency, in one query."""
    sums = {s: Sum("amount", filter=Q(status=s), default=0) for s in Reward.Status.values}
    rows = (
        rewards.values("unit", "currency")
        .annotate(count=Count("pk"), **sums)
        .order_by("unit", "currency")
    )
    return [
        Total(
            count=row["count"],
            **{
                s: format_amount(row[s], row["unit"], row["currency"]) for s in Reward.Status.values
            },
        )
        for row in rows
    ]
