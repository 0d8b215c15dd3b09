"""What each resource shows: the mirrored fields, summaries of related objects, never secrets."""

from __future__ import annotations

import json

import pytest

from referralhub.models import Promoter
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    DeliveryFactory,
    PromoterFactory,
    PromotionFactory,
    RewardFactory,
)


def test_it_shows_a_campaign_with_its_reward_rules(api, carol):
    campaign = CampaignFactory(name="Spring", auto_approve_rewards=True)
    body = api(carol).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert body["name"] == "Spring"
    assert body["auto_approve_rewards"] is True
    assert body["referral_reward"]["per_of_sale"] == "20.00"
    assert body["offer"] is None


def test_it_shows_a_promoter_with_profile_and_balances(api, carol):
    promoter = PromoterFactory(
        first_name="Jane", last_name="Doe", paypal_email="jane@paypal.example", country="NL"
    )
    body = api(carol).get(f"/api/v1/promoters/{promoter.pk}/").json()
    assert body["display_name"] == "Jane Doe"
    assert body["profile"]["paypal_email"] == "jane@paypal.example"
    assert body["profile"]["social_accounts"] == {"twitter": "https://twitter.com/jane"}
    assert body["balances"] == {
        "earnings": {"cash": "8.82", "free_months": "3"},
        "current": None,
        "paid": None,
    }


def test_it_never_shows_promoter_credentials_even_if_a_payload_kept_them(api, carol):
    promoter = PromoterFactory()
    # Bypass ingest: a row written before redaction existed must still not leak.
    Promoter.objects.filter(pk=promoter.pk).update(
        payload={"temp_password": "hunter2", "profile": {"auth_token": "tok-123"}}
    )
    client = api(carol)
    for url in (f"/api/v1/promoters/{promoter.pk}/", "/api/v1/promoters/"):
        text = client.get(url).content.decode()
        assert "hunter2" not in text
        assert "tok-123" not in text
    body = client.get(f"/api/v1/promoters/{promoter.pk}/").json()
    assert body["payload"] == {
        "temp_password": "[redacted]",
        "profile": {"auth_token": "[redacted]"},
    }


def test_it_shows_no_credentials_after_a_real_webhook(api, olga, fp_endpoint, payload):
    seed = payload("firstpromoter_new_customer_seed.json")
    promoter = seed["data"]["promoter"]
    leaked = [promoter["temp_password"], promoter["auth_token"]]
    response = api(None).post(fp_endpoint.path, json.dumps(seed), content_type="application/json")
    assert response.status_code == 200
    client = api(olga)
    for name in ("promoters", "leads", "deliveries"):
        response = client.get(f"/api/v1/{name}/")
        assert response.json()["results"], name
        for secret in leaked:
            assert secret not in response.content.decode(), name


def test_it_shows_a_promotion_with_counters(api, carol):
    promotion = PromotionFactory(ref_id="jane", leads_count=14)
    body = api(carol).get(f"/api/v1/promotions/{promotion.pk}/").json()
    assert body["ref_id"] == "jane"
    assert body["leads_count"] == 14
    assert body["promoter"] == promotion.promoter_id
    assert body["current_referral_reward"]["unit"] == "cash"


def test_it_shows_a_lead_with_its_promoter(api, carol):
    reward = RewardFactory(lead__suspicion="same_ip_suspicion")
    body = api(carol).get(f"/api/v1/leads/{reward.lead_id}/").json()
    assert reward.promoter is not None
    assert body["promoter"]["email"] == reward.promoter.email
    assert body["is_self_referral_suspect"] is True


def test_it_shows_a_conversion(api, carol):
    conversion = ConversionFactory(order_id="ORD-9")
    body = api(carol).get(f"/api/v1/conversions/{conversion.pk}/").json()
    assert body["order_id"] == "ORD-9"
    assert body["purchase_value"] == "49.0000"
    assert conversion.lead is not None
    assert body["lead"]["email"] == conversion.lead.email


def test_it_shows_a_reward_with_its_decision_and_amount(api, alice):
    reward = RewardFactory(amount="9.80")
    body = api(alice).get(f"/api/v1/rewards/{reward.pk}/").json()
    assert body["amount"] == "9.8000"
    assert body["amount_display"] == "9.80 USD"
    assert body["status"] == "pending"
    assert body["decided_by"] is None
    assert reward.campaign is not None
    assert body["campaign"] == {"id": reward.campaign_id, "name": reward.campaign.name}
    assert body["mark_fulfilled_at_provider"] is False


def test_it_says_which_rewards_waiting_for_fulfilment_the_provider_is_not_told_of(api, alice):
    # FirstPromoter's webhooks v2 never ask: the reward waits although nobody asked for it.
    unasked = RewardFactory(
        fulfilment="pending",
        fulfilment_requested_at="2026-11-20T10:00:00Z",
        provider_asks_fulfilment=False,
    )
    # Legacy webhooks ask, now or later (staff approvals queue a reward before any ask).
    asked = RewardFactory(fulfilment="pending", fulfilment_requested_at="2026-11-20T10:00:00Z")
    not_queued = RewardFactory(provider_asks_fulfilment=False)

    shown = {
        r["id"]: r["mark_fulfilled_at_provider"]
        for r in api(alice).get("/api/v1/rewards/").json()["results"]
    }

    assert shown == {unasked.pk: True, asked.pk: False, not_queued.pk: False}


def test_it_shows_deliveries_with_bodies_but_never_the_endpoint_secret(api, olga):
    delivery = DeliveryFactory(body='{"event": {"id": 77}}', endpoint__secret="s3cr3t")
    response = api(olga).get(f"/api/v1/deliveries/{delivery.pk}/")
    body = response.json()
    assert body["body"] == '{"event": {"id": 77}}'
    assert body["endpoint"] == delivery.endpoint_id
    assert "s3cr3t" not in response.content.decode()
    assert delivery.endpoint.token not in response.content.decode()


@pytest.mark.parametrize("name", ["campaigns", "promoters", "promotions", "conversions"])
def test_it_pages_the_small_tables_by_number(api, carol, name):
    ConversionFactory()
    body = api(carol).get(f"/api/v1/{name}/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1
