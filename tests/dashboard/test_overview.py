"""The overview: a period beside the previous one, queues, inbox problems, top promoters."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from dashboard import stats
from dashboard.periods import Period, Scope
from referralhub.models import Reward
from tests.dashboard.conftest import days_ago
from tests.factories import (
    ConversionFactory,
    DeliveryFactory,
    LeadFactory,
    PromoterFactory,
    RewardFactory,
)
from webhooks import samples
from webhooks.models import WebhookDelivery

URL = "/dashboard/"


@pytest.fixture
def world(db, fp_endpoint):
    star = PromoterFactory(first_name="Star", last_name="Promoter")
    other = PromoterFactory(first_name="Other", last_name="Promoter")
    # This period: 4 leads (one from a provider without signup dates), 2 customers.
    LeadFactory(
        unlinked=True, promoter=star, provider_created_at=days_ago(1), customer_since=days_ago(1)
    )
    LeadFactory(
        unlinked=True, promoter=star, provider_created_at=days_ago(2), customer_since=days_ago(1)
    )
    LeadFactory(unlinked=True, promoter=other, provider_created_at=days_ago(3))
    LeadFactory(unlinked=True, promoter=other, provider="invitereferrals", provider_created_at=None)
    # Previous period: 2 leads, 1 customer.
    old = LeadFactory(
        unlinked=True, promoter=other, provider_created_at=days_ago(40), customer_since=days_ago(35)
    )
    LeadFactory(unlinked=True, promoter=other, provider_created_at=days_ago(45))
    # Revenue: an InviteReferrals sale, and one FirstPromoter sale that earned two rewards.
    ConversionFactory(promoter=star, lead=None, purchase_value=Decimal("100"), currency="USD")
    ConversionFactory(
        promoter=star, lead=None, purchase_value=Decimal("999"), status="fail", currency="USD"
    )
    for tier in (1, 2):
        RewardFactory(
            unlinked=True,
            promoter=star,
            amount=Decimal("15.00"),
            sale_external_id="sale-1",
            conversion_amount=Decimal("49"),
            provider_created_at=days_ago(2),
            tier_level=tier,
        )
    RewardFactory(
        unlinked=True,
        promoter=other,
        lead=old,
        sale_external_id="sale-0",
        conversion_amount=Decimal("20"),
        provider_created_at=days_ago(40),
        status=Reward.Status.APPROVED,
        fulfilment=Reward.Fulfilment.PENDING,
    )
    RewardFactory(unlinked=True, promoter=other, amount=Decimal(3), unit="free_months", currency="")
    DeliveryFactory(endpoint=fp_endpoint, status=WebhookDelivery.Status.FAILED)
    DeliveryFactory(endpoint=fp_endpoint, status=WebhookDelivery.Status.REJECTED)
    DeliveryFactory(
        endpoint=fp_endpoint,
        status=WebhookDelivery.Status.FAILED,
        received_at=timezone.now() - timedelta(hours=30),
    )
    return star


def test_it_compares_the_period_with_the_previous_one(as_bob: Client, world) -> None:
    response = as_bob.get(URL)
    metrics = {m.label: (m.current, m.previous) for m in response.context["metrics"]}
    assert metrics["Leads"] == ("4", "2")
    assert metrics["Customers"] == ("2", "1")
    assert metrics["Conversion rate"] == ("50.0%", "50.0%")
    assert metrics["Referred revenue"] == ("149.00 USD", "20.00 USD")
    changes = {m.label: m.change for m in response.context["metrics"]}
    assert changes["Leads"] == 100.0
    assert changes["Conversion rate"] == 0.0


def test_it_says_when_pending_rewards_have_no_amount(as_bob: Client) -> None:
    # InviteReferrals goals carry no amount: "worth —" would read as a missing figure.
    RewardFactory(unlinked=True, provider="invitereferrals", amount=None, unit="", currency="")
    RewardFactory(unlinked=True, amount=Decimal("15.00"))

    html = as_bob.get(URL).content.decode()

    assert "<strong>1</strong> without an amount" in html
    assert "<strong>1</strong> worth 15.00 USD" in html


def test_it_shows_the_queues_and_delivery_problems(as_bob: Client, world) -> None:
    response = as_bob.get(URL)
    pending = {(row["unit"], row["count"], row["display"]) for row in response.context["pending"]}
    assert pending == {("cash", 2, "30.00 USD"), ("free_months", 1, "3 free months")}
    assert response.context["pending_count"] == 3
    assert response.context["fulfilment_queue"] == 1
    assert response.context["problems"] == {"failed": 1, "rejected": 1}
    html = response.content.decode()
    assert "30.00 USD" in html
    assert "1 failed · 1 rejected" in html


def test_the_delivery_problems_card_opens_the_deliveries_it_counts(
    as_bob: Client, world, fp_endpoint
) -> None:
    # Only rejected ones recently: the card linked to failed deliveries, an empty list.
    WebhookDelivery.objects.filter(status="failed").update(status="processed")
    DeliveryFactory(endpoint=fp_endpoint, status=WebhookDelivery.Status.REJECTED, event_type="")
    DeliveryFactory(
        endpoint=fp_endpoint, status=WebhookDelivery.Status.FAILED, received_at=days_ago(3)
    )
    overview = as_bob.get(URL)
    counted = overview.context["problems"]
    link = re.search(
        r'href="([^"]+)">\s*<div class="kpi-label">Delivery problems', overview.content.decode()
    )
    assert link is not None

    listed = as_bob.get(unescape(link[1])).context["page"].items

    assert counted == {"failed": 0, "rejected": 2}
    assert len(listed) == 2
    assert {d.status for d in listed} == {"rejected"}


def test_it_ranks_top_promoters_by_customers(as_bob: Client, world) -> None:
    top = as_bob.get(URL).context["top_promoters"][0]
    assert (top["promoter"].pk, top["customers"], top["leads"]) == (world.pk, 2, 2)


def test_it_draws_the_chart_as_inline_svg(as_bob: Client, world) -> None:
    response = as_bob.get(URL, {"days": "7"})
    html = response.content.decode()
    assert '<svg class="chart"' in html
    assert html.count('<rect class="leads"') == 7
    assert response.context["chart_totals"] == (4, 2)
    assert '<script src="http' not in html  # nothing from a CDN


def test_it_shows_money_without_a_currency_plainly() -> None:
    assert stats.money({"": Decimal("5"), "EUR": Decimal("2.5")}) == (
        "5.00 (no currency)\n2.50 EUR"
    )


def test_it_compares_revenue_only_in_one_currency(db) -> None:
    same = stats._revenue_metric({"USD": Decimal("150")}, {"USD": Decimal("100")})
    assert same.change == 50.0
    mixed = stats._revenue_metric({"USD": Decimal("1"), "EUR": Decimal("1")}, {"USD": Decimal(1)})
    assert mixed.change is None
    assert mixed.current == "1.00 USD\n1.00 EUR"


def test_it_recounts_lead_figures_at_most_every_few_minutes(
    as_bob: Client, world, django_assert_max_num_queries
) -> None:
    as_bob.get(URL)
    LeadFactory(unlinked=True, provider_created_at=days_ago(1))
    RewardFactory(unlinked=True, promoter=world)
    with django_assert_max_num_queries(7):
        response = as_bob.get(URL)
    metrics = {m.label: m.current for m in response.context["metrics"]}
    assert metrics["Leads"] == "4"  # cached: the new lead shows at the next recount
    assert response.context["pending_count"] == 4  # the queues are always live


def test_it_says_which_time_zone_its_days_are_in(as_bob: Client, db, settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    html = as_bob.get(URL).content.decode()
    assert "whole days in the hub's time zone (America/New_York)" in html


def test_sales_behind_firstpromoter_v2_commissions_are_not_counted(db, fp_endpoint, client) -> None:
    # v2 names no sale: two commissions (tiers) of one sale would otherwise count it twice.
    at = timezone.now() - timedelta(days=1)
    for reward in (1, 2):
        data = samples.fp2_commission(reward, 3, 7, at)
        document = samples.fp2_event("commission.created", at, data)
        client.post(fp_endpoint.path, document, content_type="application/json")
    assert Reward.objects.filter(conversion_amount=Decimal(99)).count() == 2

    assert stats.referred_revenue(Period.last_days(30), Scope()) == {}
