"""A promoter's page: profile, balances, promotions, leads, rewards, conversions, payloads."""

from __future__ import annotations

import re
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from dashboard import selectors
from referralhub.models import Promotion
from tests.factories import ConversionFactory, LeadFactory, PromoterFactory, RewardFactory


def test_it_shows_everything_about_the_promoter(as_bob: Client, db) -> None:
    promoter = PromoterFactory(
        first_name="Grace",
        last_name="Hopper",
        paypal_email="grace@paypal.example.com",
        earnings_balance={"cash": "8.82", "free_months": "3"},
        current_balance={"cash": "1.50"},
        payload={"id": 7, "email": "grace@example.com", "auth_token": "secret-token-1"},
    )
    Promotion.objects.create(
        provider="firstpromoter",
        external_id="p9",
        promoter=promoter,
        ref_id="grace-ref",
        visitors_count=40,
        leads_count=12,
        customers_count=5,
        sales_count=0,
        sales_total=0,
    )  # FirstPromoter v2 sends no refunds nor cancellations: unknown, not zero
    lead = LeadFactory(
        unlinked=True, promoter=promoter, email="ref1@example.com", suspicion="same_promoter_email"
    )
    RewardFactory(
        unlinked=True, promoter=promoter, lead=lead, amount=3, unit="free_months", currency=""
    )
    ConversionFactory(promoter=promoter, lead=lead, order_id="ORD-77")

    html = as_bob.get(reverse("dashboard:promoter", args=[promoter.pk])).content.decode()
    for text in (
        "Grace Hopper",
        "grace@paypal.example.com",
        "8.82 USD",
        "3 free months",
        "1.50 USD",
        "grace-ref",
        ">40<",
        ">12<",
        ">0 · 0.00<",  # no sales
        ">— · —<",  # refunds not known
        "ref1@example.com",
        "Same email as promoter",
        "ORD-77",
        f"?promoter={promoter.pk}",
    ):
        assert text in html, text
    assert "secret-token-1" not in html  # credentials never shown
    assert "&quot;auth_token&quot;: &quot;[redacted]&quot;" in html


def test_it_shows_referral_rocket_sums_and_conversion_values_as_money(as_bob: Client, db) -> None:
    promoter = PromoterFactory(
        provider="referralrocket",
        reward_currency="EUR",
        referral_reward_balance=Decimal("20"),
        reward_due=Decimal("7.5"),
        reward_paid=None,
    )
    ConversionFactory(promoter=promoter, lead=None, purchase_value=Decimal("99.9"), currency="USD")
    ConversionFactory(promoter=promoter, lead=None, purchase_value=None, currency="")
    ConversionFactory(
        promoter=promoter, lead=None, purchase_value=Decimal("56"), currency=""
    )  # InviteReferrals

    html = as_bob.get(reverse("dashboard:promoter", args=[promoter.pk])).content.decode()
    assert "<dt>Reward balance</dt><dd>20.00 EUR</dd>" in html
    assert "<dt>Reward due</dt><dd>7.50 EUR</dd>" in html
    assert "Reward paid" not in html
    assert "<dt>Earned</dt>" not in html  # FirstPromoter's balances, which it never sends
    assert '<td class="num">99.90 USD</td>' in html
    assert '<td class="num">—</td>' in html
    assert '<td class="num">56.00</td>' in html
    assert "0000" not in html  # no stored four-decimal value leaks through


def test_it_answers_404_for_an_unknown_promoter(as_bob: Client) -> None:
    assert as_bob.get(reverse("dashboard:promoter", args=[987654])).status_code == 404


def test_it_says_latest_only_for_a_section_cut_off_at_its_limit(as_bob: Client, db) -> None:
    promoter = PromoterFactory()
    for _ in range(selectors.RELATED_ROWS + 1):
        LeadFactory(unlinked=True, promoter=promoter)
    RewardFactory(unlinked=True, promoter=promoter)

    html = as_bob.get(reverse("dashboard:promoter", args=[promoter.pk])).content.decode()

    assert f'Leads <span class="muted small">(latest {selectors.RELATED_ROWS})</span>' in html
    assert 'Rewards <span class="muted small">(1)</span>' in html
    assert re.search(r"Conversions\s*</h2>", html)  # none: no count at all
