"""The overview's numbers: a period and the one before it, side by side.

Definitions (also shown on the page):
- leads: leads that signed up in the period (the provider's signup date, else when the hub first
  heard of them);
- customers: of those leads, the ones that are customers now (`customer_since` set, whenever it
  came): a signup cohort, so the conversion rate (customers / leads) never exceeds 100%;
- referred revenue: successful InviteReferrals conversions' `purchase_value` plus FirstPromoter
  rewards' `conversion_amount` (the sale that earned the reward), each sale counted once, on the
  day of its first reward, however many rewards it earned (tiers, splits), per currency. Referral
  Rocket sends no sale amounts; FirstPromoter's v2 commissions name no sale (`sale_external_id`
  stays empty): left out. The two sources never describe the same sale: conversions only come
  from InviteReferrals;
- commissions: cash rewards not denied, on the day the provider created them, per currency.
Amounts in different currencies are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dashboard.periods import Period, Scope
from dashboard.selectors import signed_up_parts
from referralhub.models import (
    Campaign,
    Conversion,
    Lead,
    Promoter,
    Provider,
    Reward,
    format_amount,
)
from webhooks.models import WebhookDelivery

TOP_PROMOTERS = 5
# Lead and money figures read up to two years of leads, rewards and conversions: a period's are
# computed at most this often. Queue sizes and delivery problems are always live.
LEAD_FIGURES_SECONDS = 300
CACHE_VERSION = 2  # bumped when Figures changes shape


@dataclass(frozen=True)
class Metric:
    label: str
    current: object
    previous: object
    change: float | None  # percent, None when there is nothing to compare with

    @classmethod
    def of(
        cls, label: str, current: float | Decimal, previous: float | Decimal, shown: tuple[str, str]
    ) -> Metric:
        now, before = float(current), float(previous)
        change = None if not before else round((now - before) * 100 / before, 1)
        return cls(label, shown[0], shown[1], change)


@dataclass(frozen=True)
class Cohort:
    leads: int = 0
    customers: int = 0

    def __add__(self, other: Cohort) -> Cohort:
        return Cohort(self.leads + other.leads, self.customers + other.customers)

    @property
    def rate(self) -> float:
        """Percent of the leads that are customers now: 0 to 100."""
        return self.customers * 100 / self.leads if self.leads else 0.0


@dataclass(frozen=True)
class BreakdownRow:
    provider: str
    campaign: str
    cohort: Cohort


@dataclass(frozen=True)
class MoneyTrend:
    """One currency's referred revenue and commissions per bucket of the period."""

    currency: str
    buckets: list[tuple[date, Decimal, Decimal]]
    revenue: Decimal
    commissions: Decimal
    revenue_before: Decimal
    commissions_before: Decimal


@dataclass(frozen=True)
class Figures:
    metrics: list[Metric]
    buckets: list[tuple[date, int, int]]  # (first day, leads, customers of those leads)
    breakdown: list[BreakdownRow]
    money: list[MoneyTrend]
    top_promoters: list[dict] = field(default_factory=list)


# Leads: cohorts per day, provider and campaign.

CohortKey = tuple[date, str, int | None]


def cohorts(period: Period, scope: Scope) -> dict[CohortKey, Cohort]:
    """Leads that signed up on each day of the period, and how many of them are customers now.

    Two queries, one per half of `signed_up_parts`, each read from its covering index
    (`lead_signup_cohort`, `lead_hub_signup_cohort`) without visiting the leads; days are the
    hub's, whatever its offset (+5:30 too)."""
    counted: dict[CohortKey, Cohort] = defaultdict(Cohort)
    halves = signed_up_parts(period.start, period.end)
    for signed_up, at in zip(halves, ("provider_created_at", "created"), strict=True):
        rows = (
            Lead.objects.filter(signed_up, scope.of())
            .annotate(day=TruncDate(at))
            .values("day", "provider", "campaign")
            .annotate(leads=Count("*"), customers=Count("customer_since"))
            .values_list("day", "provider", "campaign", "leads", "customers")
            .order_by()
        )
        for day, provider, campaign, leads, customers in rows:
            counted[(day, provider, campaign)] += Cohort(leads, customers)
    return counted


def total(counted: dict[CohortKey, Cohort], period: Period) -> Cohort:
    return sum((c for (day, _, _), c in counted.items() if day in period), Cohort())


def per_bucket(counted: dict[CohortKey, Cohort], period: Period) -> list[tuple[date, int, int]]:
    """(first day, leads, customers) for every bucket of the period, empty ones included."""
    sums: dict[date, Cohort] = defaultdict(Cohort)
    for (day, _, _), cohort in counted.items():
        if day in period:
            sums[period.bucket_of(day)] += cohort
    return [(b, sums[b].leads, sums[b].customers) for b in period.buckets()]


def breakdown(counted: dict[CohortKey, Cohort], period: Period) -> list[BreakdownRow]:
    """The period's cohorts per provider and campaign, most leads first."""
    sums: dict[tuple[str, int | None], Cohort] = defaultdict(Cohort)
    for (day, provider, campaign), cohort in counted.items():
        if day in period:
            sums[(provider, campaign)] += cohort
    names = Campaign.objects.in_bulk([c for _, c in sums if c is not None])
    labels = dict(Provider.choices)
    rows = [
        BreakdownRow(
            labels.get(provider, provider),
            str(names[campaign]) if campaign in names else "(no campaign)",
            cohort,
        )
        for (provider, campaign), cohort in sums.items()
    ]
    return sorted(rows, key=lambda row: (-row.cohort.leads, row.provider, row.campaign))


def headline(
    counted: dict[CohortKey, Cohort], money: list[MoneyTrend], period: Period
) -> list[Metric]:
    now, before = total(counted, period), total(counted, period.previous())
    revenue = {m.currency: m.revenue for m in money if m.revenue}
    revenue_before = {m.currency: m.revenue_before for m in money if m.revenue_before}
    return [
        Metric.of("Leads", now.leads, before.leads, (f"{now.leads:,}", f"{before.leads:,}")),
        Metric.of(
            "Customers",
            now.customers,
            before.customers,
            (f"{now.customers:,}", f"{before.customers:,}"),
        ),
        Metric.of(
            "Conversion rate", now.rate, before.rate, (f"{now.rate:.1f}%", f"{before.rate:.1f}%")
        ),
        _revenue_metric(revenue, revenue_before),
    ]


# Money: per day and currency, never added across currencies.

MoneyKey = tuple[date, str]


def referred_revenue(period: Period, scope: Scope) -> dict[MoneyKey, Decimal]:
    totals: dict[MoneyKey, Decimal] = defaultdict(Decimal)
    if scope.includes(Provider.INVITEREFERRALS):
        conversions = (
            Conversion.objects.filter(
                scope.of(campaign_field="lead__campaign"),
                status=Conversion.Status.SUCCESS,
                purchase_value__isnull=False,
            )
            .annotate(at=Coalesce("provider_updated_at", "created"))
            .filter(at__gte=period.start, at__lt=period.end)
            .values_list(TruncDate("at"), "currency")
            .annotate(total=Sum("purchase_value"))
            .order_by()
        )
        for day, currency, amount in conversions:
            totals[(day, currency)] += amount
    if scope.includes(Provider.FIRSTPROMOTER):
        for day, amount in _firstpromoter_sales(period, scope):
            totals[(day, settings.FIRSTPROMOTER_CURRENCY)] += amount
    return totals


def _firstpromoter_sales(period: Period, scope: Scope) -> list[tuple[date, Decimal]]:
    """One amount per sale, that of its first reward: a sale that earned several rewards (tiers,
    splits) has them all carry its amount."""
    sales = Reward.objects.filter(
        provider=Provider.FIRSTPROMOTER, conversion_amount__isnull=False
    ).exclude(sale_external_id="")
    earlier = sales.filter(sale_external_id=OuterRef("sale_external_id"), pk__lt=OuterRef("pk"))
    rows = (
        sales.filter(
            scope.of(),
            provider_created_at__gte=period.start,
            provider_created_at__lt=period.end,
        )
        .exclude(Exists(earlier))
        .values_list(TruncDate("provider_created_at"))
        .annotate(total=Sum("conversion_amount"))
        .order_by()
    )
    return list(rows)


def commissions(period: Period, scope: Scope) -> dict[MoneyKey, Decimal]:
    rows = (
        Reward.objects.filter(scope.of(), unit__in=("cash", ""), amount__isnull=False)
        .exclude(status=Reward.Status.DENIED)
        .annotate(at=Coalesce("provider_created_at", "created"))
        .filter(at__gte=period.start, at__lt=period.end)
        .values_list(TruncDate("at"), "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    totals: dict[MoneyKey, Decimal] = defaultdict(Decimal)
    for day, currency, amount in rows:
        totals[(day, currency)] += amount
    return totals


def money_trends(
    revenue: dict[MoneyKey, Decimal], paid: dict[MoneyKey, Decimal], period: Period
) -> list[MoneyTrend]:
    """Per currency that has any amount in the period or the one before it."""
    before = period.previous()
    trends = []
    for currency in sorted({c for _, c in revenue} | {c for _, c in paid}):
        earned, owed = _per_bucket(revenue, currency, period), _per_bucket(paid, currency, period)
        trend = MoneyTrend(
            currency,
            [(bucket, earned[bucket], owed[bucket]) for bucket in period.buckets()],
            _within(revenue, currency, period),
            _within(paid, currency, period),
            _within(revenue, currency, before),
            _within(paid, currency, before),
        )
        if trend.revenue or trend.commissions or trend.revenue_before or trend.commissions_before:
            trends.append(trend)
    return trends


def _per_bucket(amounts: dict[MoneyKey, Decimal], currency: str, period: Period) -> dict:
    sums: dict[date, Decimal] = defaultdict(Decimal)
    for (day, each), amount in amounts.items():
        if each == currency and day in period:
            sums[period.bucket_of(day)] += amount
    return sums


def _within(amounts: dict[MoneyKey, Decimal], currency: str, period: Period) -> Decimal:
    return sum(
        (v for (day, c), v in amounts.items() if c == currency and day in period), Decimal(0)
    )


def money(totals: dict[str, Decimal]) -> str:
    """One line per currency; InviteReferrals does not always say which currency it means."""
    lines = [amount_in(c, v) for c, v in totals.items()]
    return "\n".join(lines) or "0.00"


def amount_in(currency: str, amount: Decimal) -> str:
    return format_amount(amount, "cash", currency) if currency else f"{amount:,.2f} (no currency)"


def _revenue_metric(now: dict[str, Decimal], before: dict[str, Decimal]) -> Metric:
    shown = (money(now), money(before))
    if len(now) > 1 or len(before) > 1 or (now and before and now.keys() != before.keys()):
        # Adding dollars to euros gives no meaningful change: show the amounts only.
        return Metric("Referred revenue", *shown, None)
    return Metric.of("Referred revenue", sum(now.values()), sum(before.values()), shown)


# Top promoters.


def top_promoters(period: Period, scope: Scope) -> list[dict]:
    """The promoters whose leads of the period are the most customers now, with those leads."""
    customers: dict[int, int] = defaultdict(int)
    for signed_up in signed_up_parts(period.start, period.end):
        rows = (
            Lead.objects.filter(
                signed_up, scope.of(), customer_since__isnull=False, promoter__isnull=False
            )
            .values("promoter")
            .annotate(n=Count("*"))
            .values_list("promoter", "n")
            .order_by()
        )
        for promoter, n in rows:
            customers[promoter] += n
    ranked = sorted(customers.items(), key=lambda item: (-item[1], item[0]))[:TOP_PROMOTERS]
    ids = [promoter for promoter, _ in ranked]
    leads: dict[int, int] = defaultdict(int)
    # The dated leads are counted from the (promoter, provider_created_at) index alone, without
    # visiting the tens of thousands of rows a busy promoter has.
    for signed_up in signed_up_parts(period.start, period.end):
        counts = (
            Lead.objects.filter(signed_up, scope.of(), promoter__in=ids)
            .values("promoter")
            .annotate(n=Count("*"))
            .values_list("promoter", "n")
            .order_by()
        )
        for promoter, n in counts:
            leads[promoter] += n
    promoters = Promoter.objects.in_bulk(ids)
    return [
        {"promoter": promoters[pk], "customers": n, "leads": leads.get(pk, 0)}
        for pk, n in ranked
        if pk in promoters
    ]


def lead_figures(period: Period, scope: Scope) -> Figures:
    """The period's leads, customers, money, trends, breakdown and top promoters, recounted at
    most every LEAD_FIGURES_SECONDS per period and scope."""
    key = (
        f"dashboard:overview:{period.first}:{period.last}:"
        f"{scope.provider}:{scope.campaign}:{timezone.get_current_timezone_name()}"
    )
    figures = cache.get(key, version=CACHE_VERSION)
    if figures is None:
        both = period.with_previous()
        counted = cohorts(both, scope)
        trends = money_trends(referred_revenue(both, scope), commissions(both, scope), period)
        figures = Figures(
            headline(counted, trends, period),
            per_bucket(counted, period),
            breakdown(counted, period),
            trends,
            top_promoters(period, scope),
        )
        cache.set(key, figures, LEAD_FIGURES_SECONDS, version=CACHE_VERSION)
    return figures


# Live figures: what needs acting on.


def pending_approval() -> list[dict]:
    """Rewards waiting for a decision: how many and how much, per unit."""
    rows = (
        Reward.objects.filter(status=Reward.Status.PENDING)
        .values("unit", "currency")
        # COUNT(*), not COUNT(id): the partial index reward_pending_totals answers it alone.
        .annotate(count=Count("*"), total=Sum("amount"))
        .order_by("unit", "currency")
    )
    return [
        {**row, "display": format_amount(row["total"], row["unit"], row["currency"])}
        for row in rows
    ]


def fulfilment_queue_size() -> int:
    return Reward.objects.filter(Reward.WAITING_FOR_FULFILMENT).count()


def delivery_problems(now: datetime | None = None) -> dict[str, int]:
    since = (now or timezone.now()) - timedelta(hours=24)
    rows = (
        WebhookDelivery.objects.filter(
            received_at__gte=since,
            status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.REJECTED],
        )
        .values("status")
        .annotate(count=Count("id"))
    )
    counts = {"failed": 0, "rejected": 0}
    counts.update({row["status"]: row["count"] for row in rows})
    return counts
