"""FirstPromoter's legacy events, through the real URL: the rows and typed fields they leave."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from referralhub.models import Campaign, Lead, Promoter, Promotion, Reward, RewardRule
from tests.webhooks.conftest import mirrored_counts, only_delivery
from webhooks.models import WebhookDelivery


def fp_rule(external_id: str) -> RewardRule:
    return RewardRule.objects.get(provider="firstpromoter", external_id=external_id)


def fp_get(model, external_id: object):
    return model.objects.get(provider="firstpromoter", external_id=str(external_id))


def test_it_mirrors_the_fulfilment_pending_seed(fp_endpoint, post_json, payload) -> None:
    response = post_json(fp_endpoint, payload("firstpromoter_fulfilment_pending_seed.json"))

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    reward = fp_get(Reward, 2429153)
    assert (reward.amount, reward.unit, reward.currency) == (Decimal(3), "free_months", "")
    assert reward.provider_status == "pending"
    assert reward.provider_created_at == datetime(2023, 8, 23, 11, 6, 2, 607000, tzinfo=UTC)
    assert reward.has_issues is False
    assert reward.date_paid is None
    assert reward.due_date is None
    assert reward.rule == fp_rule("reward:109465")
    assert reward.rule.type == "per_promotion"
    assert reward.rule.name == "Free subscription months"
    assert reward.rule.unit == "free_months"
    assert reward.rule.amount is None
    assert reward.beneficiary == Reward.Beneficiary.PROMOTER
    # The campaign auto-approves rewards: the hub's decision follows.
    assert reward.status == Reward.Status.APPROVED
    assert reward.decision_reason == "The campaign auto-approves rewards."
    assert reward.decided_at is not None
    assert reward.decided_by is None
    assert reward.payload["promoter"]["temp_password"] == "[redacted]"

    campaign = reward.campaign
    assert campaign == fp_get(Campaign, 17476)
    assert campaign.name == "Campaign Name"
    assert campaign.landing_url == "https://www.your-company.com"
    assert campaign.description == "Private campaign with 2 plans"
    assert (campaign.private, campaign.color) == (False, "#42a5f5")
    assert campaign.default_webhook_url == "https://your-webhook-url.com"
    assert (campaign.auto_approve_rewards, campaign.auto_approve_promoters) == (True, False)
    assert campaign.offer is None
    assert campaign.promotion_reward is None
    assert campaign.referral_reward == fp_rule("reward:90548")
    assert campaign.referral_reward.per_of_sale == Decimal(35)
    assert campaign.referral_reward.kind == RewardRule.Kind.REWARD

    promoter = reward.promoter
    assert promoter == fp_get(Promoter, 5272969)
    assert promoter.email == "[email\xa0protected]"  # as FirstPromoter's example spells it
    assert (promoter.status, promoter.pref, promoter.default_ref_id) == (
        "active",
        "i790yc6",
        "referralid18",
    )
    assert promoter.default_promotion_external_id == "5680057"
    assert promoter.provider_created_at == datetime(2023, 2, 8, 6, 25, 28, 4000, tzinfo=UTC)
    # Balances per unit, in major units: FirstPromoter's cash is in cents.
    assert promoter.earnings_balance == {"cash": "8.82", "free_months": "3"}
    assert promoter.current_balance == {"cash": "8.82", "free_months": "3"}
    assert promoter.paid_balance is None
    assert (promoter.first_name, promoter.last_name) == ("Promoter", "Name")
    assert promoter.profile_external_id == "5306304"
    assert promoter.social_accounts == {}

    promotion = fp_get(Promotion, 5680057)
    assert promotion.promoter == promoter
    assert promotion.campaign == campaign
    assert (promotion.status, promotion.ref_id) == ("offer_inactive", "referralid18")
    assert promotion.referral_link == "https://www.your-company.com/?fpr=referralid18"
    assert (promotion.visitors_count, promotion.leads_count, promotion.customers_count) == (4, 3, 2)
    assert (promotion.sales_count, promotion.sales_total) == (2, Decimal("25.22"))
    assert (promotion.refunds_count, promotion.refunds_total) == (0, Decimal(0))
    assert (promotion.active_customers_count, promotion.cancellations_count) == (2, 0)
    assert promotion.current_referral_reward == fp_rule("reward:90548")
    assert promotion.current_offer is None
    assert promotion.hidden is False
    assert promotion.campaign_name == "Campaign Name"

    delivery = only_delivery()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert (delivery.response_status, delivery.event_type) == (202, "fulfilment_pending")
    assert delivery.idempotency_key == "event:13007875"
    assert (delivery.attempts, delivery.processing_attempts) == (1, 1)


def test_it_mirrors_the_new_customer_seed(fp_endpoint, post_json, payload) -> None:
    response = post_json(fp_endpoint, payload("firstpromoter_new_customer_seed.json"))

    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    lead = fp_get(Lead, 91011)
    assert (lead.state, lead.email, lead.uid) == ("active", "lead.customer@example.com", "cus_123")
    assert lead.customer_since == datetime(2023, 8, 24, 9, 0, tzinfo=UTC)
    assert lead.cancelled_at is None
    assert (lead.plan_name, lead.suspicion, lead.username) == (
        "Pro monthly",
        "no_suspicion",
        "leadcustomer",
    )
    assert lead.is_self_referral_suspect is False
    assert lead.website == "https://lead.example.com"
    assert lead.provider_created_at == datetime(2023, 8, 20, 8, 0, tzinfo=UTC)
    assert lead.custom_fields == {"source": "newsletter"}
    assert lead.visitor_sub_id == "sub-1"
    assert lead.split_percentage_value is None
    assert lead.split_promotion_external_id == ""
    assert lead.provider_updated_at == datetime(2023, 8, 24, 9, 0, 1, tzinfo=UTC)

    promoter = fp_get(Promoter, 5272969)
    assert lead.promoter == promoter
    assert lead.promotion == fp_get(Promotion, 5680057)
    assert lead.campaign == fp_get(Campaign, 17476)
    assert lead.campaign.name == "Campaign Name"  # a shell named from the promotion
    assert promoter.social_accounts == {
        network: f"https://{network}.example.com/promoter"
        for network in (
            "twitter",
            "youtube",
            "facebook",
            "linkedin",
            "instagram",
            "tiktok",
            "twitch",
        )
    }

    promotion = lead.promotion
    offer = promotion.current_offer
    assert offer == fp_rule("offer:7001")
    assert (offer.kind, offer.name, offer.amount, offer.unit) == (
        RewardRule.Kind.OFFER,
        "20% off first month",
        Decimal(20),
        "discount_per",
    )
    assert offer.default_promo_code == "WELCOME20"
    assert promotion.current_promotion_reward == fp_rule("reward:7002")
    assert promotion.current_promotion_reward.amount == Decimal(3)
    target = promotion.current_target_reward
    assert (target.type, target.unit, target.amount) == ("per_target", "cash", Decimal(50))
    assert Reward.objects.count() == 0


def test_it_records_a_lead_signup_linked_to_its_promoter_and_promotion(
    fp_endpoint, post_json, fp_event
) -> None:
    response = post_json(fp_endpoint, fp_event("lead_signup"))

    assert response.status_code == 200
    lead = fp_get(Lead, 91020)
    assert (lead.state, lead.email, lead.customer_since) == ("signup", "new.lead@example.com", None)
    assert lead.promoter == fp_get(Promoter, 5272969)
    assert lead.promotion == fp_get(Promotion, 5680057)
    assert lead.promotion.promoter == lead.promoter
    assert lead.campaign == fp_get(Campaign, 17476)
    assert lead.promoter.earnings_balance == {"cash": "8.82", "free_months": "3"}


def test_it_marks_a_lead_active_when_it_becomes_a_referral(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    response = post_json(fp_endpoint, fp_event("lead_becomes_referral"))

    assert response.status_code == 200
    lead = fp_get(Lead, 91020)
    assert lead.state == "active"
    assert lead.customer_since == datetime(2023, 8, 22, 10, 0, tzinfo=UTC)
    assert Lead.objects.count() == 1


def test_it_accepts_customer_created_as_an_alias_of_new_customer(
    fp_endpoint, post_json, fp_event
) -> None:
    response = post_json(fp_endpoint, fp_event("customer_created"))

    assert response.status_code == 200
    lead = fp_get(Lead, 91021)
    assert (lead.state, lead.email) == ("active", "alias.customer@example.com")
    assert lead.promoter.external_id == "5272969"
    assert only_delivery().event_type == "customer_created"


def test_it_cancels_a_lead_whose_state_is_sent_as_status(fp_endpoint, post_json, fp_event) -> None:
    post_json(fp_endpoint, fp_event("lead_becomes_referral"))
    response = post_json(fp_endpoint, fp_event("lead_cancelled"))

    assert response.status_code == 200
    lead = fp_get(Lead, 91020)
    assert lead.state == "cancelled"
    assert lead.cancelled_at == datetime(2023, 9, 1, 12, 0, tzinfo=UTC)
    assert lead.customer_since == datetime(2023, 8, 22, 10, 0, tzinfo=UTC)


def test_it_creates_a_promoter_when_one_signs_up(fp_endpoint, post_json, fp_event) -> None:
    response = post_json(fp_endpoint, fp_event("promoter_signed_up"))

    assert response.status_code == 200
    promoter = fp_get(Promoter, 5272970)
    assert promoter.email == "second.promoter@example.com"
    assert promoter.earnings_balance == {"cash": "123.45", "points": "40"}
    assert promoter.current_balance == {"cash": "1"}
    assert promoter.paid_balance == {"cash": "122.45"}
    assert (promoter.first_name, promoter.last_name) == ("Second", "Promoter")
    assert (promoter.company_name, promoter.country, promoter.vat_id) == (
        "Second & Co",
        "DE",
        "DE123456789",
    )
    assert promoter.paypal_email == "pay.second@example.com"
    assert promoter.campaign is None
    promotion = fp_get(Promotion, 5680058)
    assert promotion.promoter == promoter
    assert (promotion.promo_code, promotion.status) == ("SECOND10", "offer_running")
    assert (promotion.refunds_count, promotion.refunds_total) == (1, Decimal("-5"))
    assert promotion.campaign.external_id == "17476"
    assert mirrored_counts()["Lead"] == 0


def test_it_links_an_accepted_promoter_to_its_campaign(fp_endpoint, post_json, fp_event) -> None:
    post_json(fp_endpoint, fp_event("promoter_signed_up"))
    response = post_json(fp_endpoint, fp_event("promoter_accepted"))

    assert response.status_code == 200
    promoter = fp_get(Promoter, 5272970)
    assert promoter.status == "accepted"
    assert promoter.campaign == fp_get(Campaign, 17476)
    assert promoter.campaign.landing_url == "https://www.your-company.com"
    assert fp_get(Promotion, 5680058).promoter == promoter
    assert Promoter.objects.count() == 1


def test_it_records_a_reward_with_its_lead_and_amount_in_major_units(
    fp_endpoint, post_json, fp_event, settings
) -> None:
    settings.FIRSTPROMOTER_CURRENCY = "EUR"
    response = post_json(fp_endpoint, fp_event("reward_created"))

    assert response.status_code == 200
    reward = fp_get(Reward, 2429200)
    assert (reward.amount, reward.unit, reward.currency) == (Decimal("17.15"), "cash", "EUR")
    assert reward.amount_display == "17.15 EUR"
    assert reward.conversion_amount == Decimal("49.00")
    assert (reward.sale_external_id, reward.tier_level, reward.split_type) == ("880011", 1, "")
    assert reward.lead == fp_get(Lead, 91021)
    assert reward.lead.state == "active"
    assert reward.promoter == fp_get(Promoter, 5272969)
    assert reward.promotion == fp_get(Promotion, 5680057)
    assert reward.campaign == fp_get(Campaign, 17476)
    # The campaign is only known by id here (not auto-approving): the hub's decision waits.
    assert reward.status == Reward.Status.PENDING
    assert reward.decided_at is None
    assert reward.fulfilment == Reward.Fulfilment.NOT_REQUESTED


@pytest.mark.parametrize("provider_status", ["approved", "denied"])
def test_it_adopts_the_decision_firstpromoter_made(
    fp_endpoint, post_json, fp_event, provider_status
) -> None:
    document = fp_event("reward_created")
    document["data"]["status"] = provider_status

    assert post_json(fp_endpoint, document).status_code == 200

    reward = fp_get(Reward, 2429200)
    assert (reward.status, reward.provider_status) == (provider_status, provider_status)
    assert reward.decision_reason == "Decided on FirstPromoter."


def test_it_ignores_an_event_type_it_does_not_handle(fp_endpoint, post_json, fp_event) -> None:
    document = fp_event("lead_signup")
    document["event"]["type"] = "referral.converted"

    response = post_json(fp_endpoint, document)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert only_delivery().status == WebhookDelivery.Status.IGNORED
    assert not any(mirrored_counts().values())


def test_it_saves_more_promotions_than_one_statement_takes_parameters_for(
    fp_endpoint, post_json, fp_event
) -> None:
    document = fp_event("promoter_signed_up")
    document["data"]["promotions"] = [
        {"id": 9_000_000 + i, "campaign_id": 17476, "ref_id": f"r{i}"} for i in range(10_000)
    ]

    response = post_json(fp_endpoint, document)

    assert response.status_code == 200
    promoter = fp_get(Promoter, 5272970)
    assert promoter.promotions.count() == 10_000
    assert fp_get(Promotion, 9_009_999).ref_id == "r9999"
