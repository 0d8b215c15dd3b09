"""The overview's numbers: a period and the one before it, side by side.

Definitions (also shown on the page):
- leads: leads that signed up in the period (the provider's signup date, else when the hub first
  heard of them);
- customers: leads whose `customer_since` falls in the period;
- conversion rate: customers / leads of the same period;
- referred revenue: successful InviteReferrals conversions' `purchase_value` plus FirstPromoter
  rewards' `conversion_amount` (the sale that earned the reward), each sale counted once however
  many rewards it earned (tiers, splits), per currency. Referral Rocket sends no sale amounts;
  FirstPromoter's v2 commissions name no sale (`sale_external_id` stays empty): left out.
  The two sources never describe the same sale: conversions only come from InviteReferrals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dashboard.selectors import signed_up_parts
from referralhub.models import (
    Conversion,
    Lead,
    LeadTally,
    Promoter,
    Provider,
    Reward,
    format_amount,
)
from webhooks.models import WebhookDelivery

TOP_PROMOTERS = 5
# Top promoters and revenue read up to two periods of customers and rewards (hundreds of
# thousands of rows at scale): the period's figures are computed at most this often. Queue sizes
# and delivery problems are always live.
LEAD_FIGURES_SECONDS = 300


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def previous(self) -> Window:
        return Window(self.start - (self.end - self.start), self.start)

    @property
    def last_day(self) -> date:
        """The end is exclusive (midnight after today): people read the last day included."""
        return timezone.localtime(self.end - timedelta(days=1)).date()


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


def window(days: int, now: datetime | None = None) -> Window:
    """The last `days` whole days up to now (today included)."""
    now = now or timezone.now()
    end = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    end += timedelta(days=1)
    return Window(end - timedelta(days=days), end)


@dataclass(frozen=True)
class Activity:
    """Leads and customers per day over a period and the one before it."""

    period: Window
    leads: dict[date, int]
    customers: dict[date, int]

    def days(self, window: Window) -> list[date]:
        first = timezone.localtime(window.start).date()
        return [first + timedelta(days=i) for i in range((window.end - window.start).days)]

    def total(self, counts: dict[date, int], window: Window) -> int:
        return sum(counts.get(day, 0) for day in self.days(window))


def activity(period: Window) -> Activity:
    """From the hourly tallies the database keeps (`referralhub.models.tallies`): a few thousand
    rows for 180 days, where counting the leads themselves read up to a million index entries.

    Tallies are whole UTC hours, so they can only be summed into days that start on a whole
    hour. In a zone whose midnight falls mid-hour (India's +5:30, Nepal's +5:45, Adelaide's
    +9:30) the leads themselves are counted instead: slower, but the days are right.
    """
    both = Window(period.previous().start, period.end)
    leads, customers = _tallied(both) if _days_start_on_the_hour(both) else _counted(both)
    return Activity(period, leads, customers)


def _days_start_on_the_hour(window: Window) -> bool:
    days = (window.end - window.start).days
    midnights = (window.start + timedelta(days=i) for i in range(days + 1))  # wall-clock days
    return all(not (m.utcoffset() or timedelta()) % timedelta(hours=1) for m in midnights)


def _tallied(window: Window) -> tuple[dict[date, int], dict[date, int]]:
    rows = (
        LeadTally.objects.filter(hour__gte=window.start, hour__lt=window.end)
        .annotate(day=TruncDate("hour"))
        .values("day")
        .annotate(leads=Sum("leads"), customers=Sum("customers"))
        .values_list("day", "leads", "customers")
        .order_by()
    )
    leads, customers = {}, {}
    for day, n_leads, n_customers in rows:
        leads[day], customers[day] = n_leads, n_customers
    return leads, customers


def _counted(window: Window) -> tuple[dict[date, int], dict[date, int]]:
    """The same figures as `_tallied`, from the leads (the definitions at the top)."""

    def per_day(leads: QuerySet[Lead], at: str) -> dict[date, int]:
        rows = leads.annotate(day=TruncDate(at)).values("day").annotate(n=Count("*"))
        return dict(rows.values_list("day", "n").order_by())

    provider_date, hub_date = signed_up_parts(window.start, window.end)
    leads = Counter(per_day(Lead.objects.filter(provider_date), "provider_created_at"))
    leads.update(per_day(Lead.objects.filter(hub_date), "created"))
    became = Lead.objects.filter(customer_since__gte=window.start, customer_since__lt=window.end)
    return dict(leads), per_day(became, "customer_since")


def referred_revenue(period: Window) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    conversions = (
        Conversion.objects.filter(status=Conversion.Status.SUCCESS, purchase_value__isnull=False)
        .annotate(at=Coalesce("provider_updated_at", "created"))
        .filter(at__gte=period.start, at__lt=period.end)
        .values("currency")
        .annotate(total=Sum("purchase_value"))
    )
    for row in conversions:
        totals[row["currency"]] += row["total"]
    # One amount per sale: a sale that earned several rewards has them all carry its amount.
    sales = (
        Reward.objects.filter(
            provider=Provider.FIRSTPROMOTER,
            conversion_amount__isnull=False,
            provider_created_at__gte=period.start,
            provider_created_at__lt=period.end,
        )
        .exclude(sale_external_id="")
        .values("sale_external_id")
        .annotate(amount=Max("conversion_amount"))
        .aggregate(total=Sum("amount"))
    )
    if sales["total"]:
        totals[settings.FIRSTPROMOTER_CURRENCY] += sales["total"]
    return {currency: total for currency, total in sorted(totals.items()) if total}


def money(totals: dict[str, Decimal]) -> str:
    """One line per currency; InviteReferrals does not always say which currency it means."""
    lines = [
        format_amount(v, "cash", c) if c else f"{v:,.2f} (no currency)" for c, v in totals.items()
    ]
    return "\n".join(lines) or "0.00"


def headline(seen: Activity) -> list[Metric]:
    period, before = seen.period, seen.period.previous()
    leads, leads_before = seen.total(seen.leads, period), seen.total(seen.leads, before)
    customers = seen.total(seen.customers, period)
    customers_before = seen.total(seen.customers, before)
    rate = customers * 100 / leads if leads else 0.0
    rate_before = customers_before * 100 / leads_before if leads_before else 0.0
    revenue, revenue_before = referred_revenue(period), referred_revenue(before)
    return [
        Metric.of("Leads", leads, leads_before, (f"{leads:,}", f"{leads_before:,}")),
        Metric.of(
            "Customers", customers, customers_before, (f"{customers:,}", f"{customers_before:,}")
        ),
        Metric.of("Conversion rate", rate, rate_before, (f"{rate:.1f}%", f"{rate_before:.1f}%")),
        _revenue_metric(revenue, revenue_before),
    ]


def _revenue_metric(now: dict[str, Decimal], before: dict[str, Decimal]) -> Metric:
    shown = (money(now), money(before))
    if len(now) > 1 or len(before) > 1 or (now and before and now.keys() != before.keys()):
        # Adding dollars to euros gives no meaningful change: show the amounts only.
        return Metric("Referred revenue", *shown, None)
    return Metric.of("Referred revenue", sum(now.values()), sum(before.values()), shown)


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


def top_promoters(period: Window) -> list[dict]:
    """The promoters who brought the most customers in the period, with their new leads."""
    rows = list(
        Lead.objects.filter(
            customer_since__gte=period.start, customer_since__lt=period.end, promoter__isnull=False
        )
        .values("promoter")
        .annotate(customers=Count("*"))
        .order_by("-customers", "promoter")[:TOP_PROMOTERS]
    )
    ids = [row["promoter"] for row in rows]
    leads: dict[int, int] = defaultdict(int)
    # Signed up in the period, in two counts rather than one OR: the dated leads are counted from
    # the (promoter, provider_created_at) index alone, without visiting the tens of thousands of
    # rows a busy promoter has.
    for signed_up in signed_up_parts(period.start, period.end):
        counts = (
            Lead.objects.filter(signed_up, promoter__in=ids)
            .values("promoter")
            .annotate(n=Count("*"))
            .values_list("promoter", "n")
            .order_by()
        )
        for promoter, n in counts:
            leads[promoter] += n
    promoters = Promoter.objects.in_bulk(ids)
    return [
        {**row, "leads": leads.get(row["promoter"], 0), "promoter": promoters[row["promoter"]]}
        for row in rows
        if row["promoter"] in promoters
    ]


@dataclass(frozen=True)
class Figures:
    metrics: list[Metric]
    days: list[tuple[date, int, int]]
    top_promoters: list[dict]


def lead_figures(period: Window) -> Figures:
    """The period's leads, customers, revenue, chart and top promoters, recounted at most every
    LEAD_FIGURES_SECONDS."""
    key = f"dashboard:lead-figures:{period.start.isoformat()}:{period.end.isoformat()}"
    figures = cache.get(key)
    if figures is None:
        seen = activity(period)
        figures = Figures(headline(seen), per_day(seen), top_promoters(period))
        cache.set(key, figures, LEAD_FIGURES_SECONDS)
    return figures


def per_day(seen: Activity) -> list[tuple[date, int, int]]:
    """(day, leads, customers) for every day of the period, zero days included."""
    return [
        (day, seen.leads.get(day, 0), seen.customers.get(day, 0)) for day in seen.days(seen.period)
    ]
