"""A lead's page: its promoter, promotion, campaign, timeline, rewards, conversions, payloads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referralhub.models import Promotion, Reward
from referralhub.people import people_sync
from tests.dashboard.conftest import days_ago
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    LeadFactory,
    PromoterFactory,
    RewardFactory,
)


@pytest.fixture
def lead(db):
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    campaign = CampaignFactory(unlinked=True, name="Spring")
    promotion = Promotion.objects.create(
        provider="firstpromoter",
        external_id="m1",
        promoter=promoter,
        campaign=campaign,
        ref_id="grace-spring",
        promo_code="GRACE10",
    )
    return LeadFactory(
        unlinked=True,
        promoter=promoter,
        promotion=promotion,
        campaign=campaign,
        email="ada@example.com",
        name="Ada L",
        uid="cus_77",
        state="cancelled",
        suspicion="same_ip_suspicion",
        provider_created_at=days_ago(30),
        customer_since=days_ago(20),
        cancelled_at=days_ago(2),
        provider_updated_at=days_ago(2),
        payload={"id": 5, "email": "ada@example.com", "auth_token": "secret-key-9"},
    )


def page(client: Client, lead) -> str:
    response = client.get(reverse("dashboard:lead", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_lead_its_promoter_promotion_and_campaign(as_bob: Client, lead) -> None:
    html = page(as_bob, lead)
    for text in ("ada", "Ada L", "cus_77", "grace-spring", "GRACE10", "Spring", "Same IP"):
        assert text in html, text
    assert f'href="{reverse("dashboard:promoter", args=[lead.promoter_id])}"' in html
    assert "Grace Hopper" in html


def test_its_timeline_puts_what_the_hub_knows_in_order(as_bob: Client, lead) -> None:
    reward = RewardFactory(
        unlinked=True,
        promoter=lead.promoter,
        lead=lead,
        external_id="r-1",
        amount=Decimal("15.00"),
        provider_created_at=days_ago(19),
    )
    reward.status, reward.decided_at = Reward.Status.APPROVED, days_ago(10)
    reward.save()
    ConversionFactory(promoter=lead.promoter, lead=lead, order_id="ORD-5")
    html = page(as_bob, lead)
    events = [
        "Signed up",
        "Became a customer",
        f"Reward #{reward.pk} (15.00 USD) created",
        f"Reward #{reward.pk} (15.00 USD) approved",
        "Cancelled",
        "State cancelled (last update)",
        "First heard of by the hub",  # the rows were made just now
        "Conversion ORD-5: success",
    ]
    timeline = html[html.index("<h2>Timeline</h2>") : html.index("<h2>Rewards")]
    positions = [timeline.index(event) for event in events]
    assert positions == sorted(positions), events


def test_it_lists_rewards_and_conversions_with_their_payloads(as_bob: Client, lead) -> None:
    reward = RewardFactory(
        unlinked=True, promoter=lead.promoter, lead=lead, payload={"id": "r-9", "amount": 1500}
    )
    ConversionFactory(
        promoter=lead.promoter, lead=lead, order_id="ORD-5", payload={"orderID": "ORD-5"}
    )
    html = page(as_bob, lead)
    assert f'href="{reverse("dashboard:reward", args=[reward.pk])}"' in html
    assert "ORD-5" in html
    assert "&quot;amount&quot;: 1500" in html
    assert "&quot;orderID&quot;: &quot;ORD-5&quot;" in html
    assert "secret-key-9" not in html  # credentials never shown
    assert "&quot;auth_token&quot;: &quot;[redacted]&quot;" in html


def test_a_lead_without_promoter_or_anything_else_still_has_a_page(as_bob: Client, db) -> None:
    lonely = LeadFactory(
        unlinked=True, promoter=None, email="", name="", provider_created_at=None, state=""
    )
    html = page(as_bob, lonely)
    assert f"Lead {lonely.external_id}" in html
    assert "No reward." in html
    assert "No conversion." in html


def test_an_unknown_lead_is_404(as_bob: Client, db) -> None:
    assert as_bob.get(reverse("dashboard:lead", args=[999999])).status_code == 404
    assert as_bob.get("/dashboard/leads/99999999999999999999/").status_code == 404


def test_the_referrals_list_and_the_promoter_page_link_to_it(as_bob: Client, lead) -> None:
    href = f'href="{reverse("dashboard:lead", args=[lead.pk])}"'
    RewardFactory(unlinked=True, promoter=lead.promoter, lead=lead)
    ConversionFactory(promoter=lead.promoter, lead=lead)
    assert href in as_bob.get(reverse("dashboard:referrals")).content.decode()
    promoter_page = as_bob.get(reverse("dashboard:promoter", args=[lead.promoter_id]))
    assert promoter_page.content.decode().count(href) == 3  # leads, rewards, conversions


@pytest.mark.parametrize("related", [5, 60])
def test_it_renders_with_a_fixed_number_of_queries(
    as_bob: Client, lead, django_assert_max_num_queries, related: int
) -> None:
    for _ in range(related):
        reward = RewardFactory(
            unlinked=True,
            promoter=lead.promoter,
            lead=lead,
            campaign=CampaignFactory(unlinked=True),
        )
        reward.status, reward.decided_at = Reward.Status.APPROVED, timezone.now()
        reward.save()
        ConversionFactory(promoter=lead.promoter, lead=lead)
    people_sync()  # else the first view also creates the promoter's person: two more queries
    # Session, user, the lead with its promoter, promotion and campaign, the promoter's person,
    # rewards, conversions, the rewards' audit trail (its content type is cached).
    with django_assert_max_num_queries(8):
        page(as_bob, lead)
