"""The overview's periods (presets, any range, time zones), signup cohorts, money per currency
and the breakdown by provider and campaign."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import stats
from dashboard.periods import MAX_DAYS, Period, Scope, start_of
from referralhub.models import Lead, Reward
from tests.dashboard.conftest import days_ago
from tests.factories import CampaignFactory, ConversionFactory, LeadFactory, RewardFactory

URL = "/dashboard/"


def metrics(response) -> dict[str, object]:
    return {m.label: m.current for m in response.context["metrics"]}


@pytest.mark.parametrize(("query", "first", "days"), [("7", 6, 7), ("90", 89, 90), ("999", 29, 30)])
def test_a_preset_is_the_last_days_up_to_today(
    as_bob: Client, db, query: str, first: int, days: int
) -> None:
    # The day may turn between reading the clock here and the page reading it.
    before = timezone.localdate()
    response = as_bob.get(URL, {"days": query})
    after = timezone.localdate()

    period = response.context["period"]
    assert response.status_code == 200
    assert period.last in {before, after}
    assert period.first == period.last - timedelta(days=first)
    assert period.days == days


def test_it_takes_any_range_of_days_both_ends_included(as_bob: Client, db) -> None:
    LeadFactory(unlinked=True, provider_created_at=datetime(2026, 3, 1, 0, 5, tzinfo=UTC))
    LeadFactory(unlinked=True, provider_created_at=datetime(2026, 3, 10, 23, 55, tzinfo=UTC))
    LeadFactory(unlinked=True, provider_created_at=datetime(2026, 3, 11, 0, 5, tzinfo=UTC))
    LeadFactory(unlinked=True, provider_created_at=datetime(2026, 2, 25, tzinfo=UTC))  # before

    response = as_bob.get(URL, {"start": "2026-03-01", "end": "2026-03-10"})

    assert response.context["period"] == Period(date(2026, 3, 1), date(2026, 3, 10))
    assert response.context["preset"] is None
    assert response.context["metrics"][0].current == "2"
    assert response.context["metrics"][0].previous == "1"  # 19 to 28 February
    assert "2026-03-01 \u2013 2026-03-10, compared with the 10 days before" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-13-01", "end": "2026-12-01"}, "start", "Enter a valid date."),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "before its start"),
        ({"start": "2026-03-10"}, "end", "Give both the first and the last day."),
        ({"end": "2026-03-10"}, "start", "Give both the first and the last day."),
        ({"start": "2024-01-01", "end": "2025-12-31"}, "end", f"at most {MAX_DAYS} days"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "start", "Enter a date from 2000-01-01"),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "end", "to 2099-12-31"),
        ({"provider": "nobody"}, "provider", "Select a valid choice"),
        ({"campaign": "999999999999999999999"}, "campaign", "Select a valid choice"),
    ],
)
def test_a_range_it_cannot_take_is_a_form_message(
    as_bob: Client, db, query: dict, field: str, message: str
) -> None:
    response = as_bob.get(URL, query)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert response.context["period"] == Period.last_days(30)  # shown meanwhile
    assert "Until the dates are corrected, the last 30 days are shown." in (
        response.content.decode()
    )


def test_the_longest_range_is_accepted(as_bob: Client, db) -> None:
    response = as_bob.get(URL, {"start": "2025-01-01", "end": "2026-01-01"})
    assert response.context["form"].errors == {}
    assert response.context["period"].days == MAX_DAYS


@pytest.mark.parametrize(
    ("zone", "signed_up", "day"),
    [
        ("UTC", datetime(2026, 11, 30, 3, tzinfo=UTC), date(2026, 11, 30)),
        ("America/New_York", datetime(2026, 11, 30, 3, tzinfo=UTC), date(2026, 11, 29)),
        # 1 November 2026 has 25 hours in New York: 23:30 that evening is 04:30 UTC the next day.
        ("America/New_York", datetime(2026, 11, 2, 4, 30, tzinfo=UTC), date(2026, 11, 1)),
        ("America/New_York", datetime(2026, 11, 1, 4, 30, tzinfo=UTC), date(2026, 11, 1)),
        ("Asia/Kolkata", datetime(2026, 11, 29, 18, 50, tzinfo=UTC), date(2026, 11, 30)),
        ("Asia/Kolkata", datetime(2026, 11, 29, 18, 10, tzinfo=UTC), date(2026, 11, 29)),
        ("Asia/Kathmandu", datetime(2026, 11, 29, 18, 10, tzinfo=UTC), date(2026, 11, 29)),
    ],
)
def test_days_are_the_hubs_whatever_its_offset(
    db, settings, zone: str, signed_up: datetime, day: date
) -> None:
    settings.TIME_ZONE = zone
    LeadFactory(unlinked=True, provider_created_at=signed_up, customer_since=signed_up)
    hub_dated = LeadFactory(unlinked=True, provider="invitereferrals", provider_created_at=None)
    Lead.objects.filter(pk=hub_dated.pk).update(created=signed_up)
    period = Period(date(2026, 10, 25), date(2026, 12, 5))

    figures = stats.lead_figures(period, Scope())

    counted = {first: (leads, customers) for first, leads, customers in figures.buckets if leads}
    assert counted == {day: (2, 1)}
    alone = stats.lead_figures(Period(day, day), Scope())
    assert alone.buckets == [(day, 2, 1)]


def test_a_daylight_saving_day_is_one_whole_day(db, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    period = Period(date(2026, 10, 25), date(2026, 10, 25))  # 25 hours in Berlin
    assert period.end.astimezone(UTC) - period.start.astimezone(UTC) == timedelta(hours=25)
    assert period.previous() == Period(date(2026, 10, 24), date(2026, 10, 24))


def test_conversion_is_the_share_of_the_periods_signups_that_converted(as_bob: Client, db) -> None:
    # One lead signed up this week and has not converted; three older leads became customers
    # this week. Counting customers by the day they converted gave 300%.
    LeadFactory(unlinked=True, provider_created_at=days_ago(2))
    for _ in range(3):
        LeadFactory(unlinked=True, provider_created_at=days_ago(40), customer_since=days_ago(1))
    # A lead of this week that converts later (or already has) counts for this week.
    LeadFactory(unlinked=True, provider_created_at=days_ago(3), customer_since=days_ago(0.1))

    shown = metrics(as_bob.get(URL, {"days": 7}))

    assert (shown["Leads"], shown["Customers"], shown["Conversion rate"]) == ("2", "1", "50.0%")
    old_figure = Lead.objects.filter(customer_since__gte=days_ago(7)).count() * 100 / 2
    assert old_figure > 100  # what the page used to say


def test_the_conversion_rate_never_exceeds_100_percent(db) -> None:
    for age in range(1, 40, 3):
        LeadFactory(
            unlinked=True, provider_created_at=days_ago(age), customer_since=days_ago(age / 3)
        )
    counted = stats.cohorts(Period.last_days(60), Scope())
    for days in (1, 7, 30, 60):
        cohort = stats.total(counted, Period.last_days(days))
        assert cohort.customers <= cohort.leads
        assert 0 <= cohort.rate <= 100


@pytest.fixture
def two_campaigns(db):
    spring = CampaignFactory(unlinked=True, name="Spring")
    autumn = CampaignFactory(unlinked=True, name="Autumn")
    for campaign, leads, customers in ((spring, 3, 2), (autumn, 2, 0)):
        for i in range(leads):
            LeadFactory(
                unlinked=True,
                campaign=campaign,
                provider_created_at=days_ago(1),
                customer_since=days_ago(1) if i < customers else None,
            )
    LeadFactory(unlinked=True, provider="invitereferrals", provider_created_at=days_ago(2))
    return spring, autumn


def test_it_breaks_the_period_down_by_provider_and_campaign(as_bob: Client, two_campaigns) -> None:
    rows = as_bob.get(URL).context["breakdown"]

    shown = [(r.provider, r.campaign, r.cohort.leads, r.cohort.customers) for r in rows]
    assert shown == [
        ("FirstPromoter", "Spring", 3, 2),
        ("FirstPromoter", "Autumn", 2, 0),
        ("InviteReferrals", "(no campaign)", 1, 0),
    ]


def test_the_provider_and_campaign_filters_narrow_the_figures(
    as_bob: Client, two_campaigns
) -> None:
    spring, _ = two_campaigns
    by_campaign = as_bob.get(URL, {"campaign": spring.pk})
    by_provider = as_bob.get(URL, {"provider": "invitereferrals"})

    assert metrics(by_campaign)["Leads"] == "3"
    assert metrics(by_campaign)["Conversion rate"] == "66.7%"
    assert [r.campaign for r in by_campaign.context["breakdown"]] == ["Spring"]
    assert "campaign Spring" in by_campaign.content.decode()
    assert metrics(by_provider)["Leads"] == "1"


def test_the_breakdown_downloads_as_csv(as_bob: Client, two_campaigns) -> None:
    response = as_bob.get(URL, {"provider": "firstpromoter", "export": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    text = response.getvalue().decode("utf-8").lstrip("\ufeff")

    rows = list(csv.reader(io.StringIO(text)))

    assert rows[0] == [
        "Provider",
        "Campaign",
        "Leads",
        "Customers among them",
        "Conversion rate (%)",
    ]
    assert rows[1:] == [
        ["FirstPromoter", "Spring", "3", "2", "66.7"],
        ["FirstPromoter", "Autumn", "2", "0", "0.0"],
    ]
    refused = as_bob.get(URL, {"start": "2026-01-01", "export": "csv"})
    assert refused.status_code == 302


@pytest.fixture
def money(db, settings):
    settings.FIRSTPROMOTER_CURRENCY = "USD"
    # Commissions: dollars and euros, and a denied and a non-cash reward that do not count.
    RewardFactory(
        unlinked=True, amount=Decimal("10"), currency="USD", provider_created_at=days_ago(1)
    )
    RewardFactory(
        unlinked=True, amount=Decimal("7.5"), currency="EUR", provider_created_at=days_ago(2)
    )
    RewardFactory(
        unlinked=True,
        amount=Decimal("99"),
        currency="USD",
        status=Reward.Status.DENIED,
        provider_created_at=days_ago(1),
    )
    RewardFactory(
        unlinked=True,
        amount=Decimal(3),
        unit="free_months",
        currency="",
        provider_created_at=days_ago(1),
    )
    # Revenue: a FirstPromoter sale behind two rewards (once), and euro conversions.
    for tier in (1, 2):
        RewardFactory(
            unlinked=True,
            amount=None,
            sale_external_id="sale-9",
            conversion_amount=Decimal("200"),
            provider_created_at=days_ago(3),
            tier_level=tier,
        )
    ConversionFactory(lead=None, promoter=None, purchase_value=Decimal("40"), currency="EUR")
    ConversionFactory(lead=None, promoter=None, purchase_value=Decimal("5"), currency="EUR")


def test_money_is_summed_per_currency_never_across(as_bob: Client, money) -> None:
    response = as_bob.get(URL, {"days": 7})

    figures = stats.lead_figures(response.context["period"], Scope())  # the page's, cached
    trends = {trend.currency: trend for trend in figures.money}
    assert set(trends) == {"EUR", "USD"}
    assert (trends["USD"].revenue, trends["USD"].commissions) == (Decimal(200), Decimal(10))
    assert (trends["EUR"].revenue, trends["EUR"].commissions) == (Decimal(45), Decimal("7.5"))
    for trend in trends.values():
        assert sum(b[1] for b in trend.buckets) == trend.revenue
        assert sum(b[2] for b in trend.buckets) == trend.commissions
    assert metrics(response)["Referred revenue"] == "45.00 EUR\n200.00 USD"
    html = response.content.decode()
    assert "Revenue <strong>45.00 EUR</strong>" in html
    assert "commissions <strong>10.00 USD</strong>" in html


def _bucket_starts(period: Period) -> dict[str, int]:
    """How many days, weeks (from Monday) and months the period touches."""
    days = [period.first + timedelta(days=i) for i in range(period.days)]
    return {
        "day": len(days),
        "week": len({day - timedelta(days=day.weekday()) for day in days}),
        "month": len({(day.year, day.month) for day in days}),
    }


@pytest.mark.parametrize(
    ("last", "days", "bucket", "count"),
    [
        (date(2026, 12, 4), 7, "day", 7),
        (date(2026, 12, 4), 62, "day", 62),
        (date(2026, 12, 6), 63, "week", 9),  # Monday 5 October to a Sunday: nine whole weeks
        (date(2026, 12, 4), 90, "week", 14),
        (date(2026, 12, 4), 366, "month", 13),
        (date(2026, 12, 31), 365, "month", 12),
    ],
)
def test_trends_use_days_weeks_or_months_by_span(
    as_bob: Client, db, last: date, days: int, bucket: str, count: int
) -> None:
    RewardFactory(unlinked=True, amount=Decimal("10"), provider_created_at=start_of(last))
    period = Period(last - timedelta(days=days - 1), last)

    figures = stats.lead_figures(period, Scope())

    assert period.bucket == bucket
    assert len(figures.buckets) == count == _bucket_starts(period)[bucket]
    assert figures.buckets[0][0] == period.first
    usd = next(t for t in figures.money if t.currency == "USD")
    assert len(usd.buckets) == count
    assert usd.buckets[-1][2] == Decimal(10)
    assert sum(b[2] for b in usd.buckets) == Decimal(10)


@pytest.mark.parametrize("query", [{"days": 7}, {"start": "2025-12-01", "end": "2026-12-01"}])
def test_the_overview_runs_the_same_queries_for_any_range(as_bob: Client, money, query) -> None:
    def count(extra: dict) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_bob.get(URL, {**query, **extra}).status_code == 200
        return len(captured)

    few = count({"provider": "firstpromoter"})
    for age in range(0, 300, 7):
        LeadFactory(provider_created_at=days_ago(age), customer_since=days_ago(age / 2))
    many = count({"provider": "invitereferrals"})  # another key: recounted, not cached

    assert many == few
