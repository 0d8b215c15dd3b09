"""Referral Rocket's participant and reward events, through the real URL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from referralhub.models import Campaign, Lead, Promoter, Reward
from tests.webhooks.conftest import mirrored_counts, only_delivery
from webhooks.models import WebhookDelivery


def rr_get(model, external_id: str):
    return model.objects.get(provider="referralrocket", external_id=external_id)


def test_it_mirrors_the_referrer_added_seed(rr_endpoint, post_json, payload) -> None:
    response = post_json(rr_endpoint, payload("referralrocket_referrer_added_seed.json"))

    assert response.status_code == 200
    promoter = rr_get(Promoter, "scG3q9Ez")  # referees name their referrer by code
    assert (promoter.code, promoter.participant_id) == ("scG3q9Ez", "384")
    assert promoter.email == "karan.r.shahss92@gmail.com"
    assert (promoter.first_name, promoter.last_name, promoter.referred_by_code) == ("", "", "")
    assert promoter.campaign == rr_get(Campaign, "PMf8BDZ1zb")
    assert (promoter.reward_currency, promoter.reward_type) == ("USD", "")
    assert (promoter.approval, promoter.score) == (True, "Low")
    assert promoter.referral_reward == Decimal(0)
    assert promoter.reward_due == Decimal(0)
    assert (promoter.total_referred, promoter.impression_count) == (0, 0)
    assert promoter.referee_action_completed is False
    assert promoter.provider_created_at == datetime(2025, 2, 9, 3, 0, 28, 2000, tzinfo=UTC)
    assert promoter.provider_updated_at == datetime(2025, 2, 9, 3, 0, 28, 207000, tzinfo=UTC)
    delivery = only_delivery()
    assert delivery.idempotency_key == "referrer_added:384:1739070028207"
    assert (delivery.status, delivery.event_type) == ("processed", "referrer_added")


def test_it_makes_a_referee_a_lead_of_the_referrer_whose_code_it_names(
    rr_endpoint, post_json, payload
) -> None:
    post_json(rr_endpoint, payload("referralrocket_referrer_added_seed.json"))
    response = post_json(rr_endpoint, payload("referralrocket_referee_added.json"))

    assert response.status_code == 200
    lead = rr_get(Lead, "385")
    assert lead.promoter == rr_get(Promoter, "scG3q9Ez")
    assert (lead.email, lead.name) == ("riya.referee@example.com", "Riya Referee")
    assert (lead.referred_by_code, lead.state, lead.customer_since) == ("scG3q9Ez", "signup", None)
    assert lead.campaign == rr_get(Campaign, "PMf8BDZ1zb")
    assert lead.provider_created_at == datetime(2025, 2, 10, 8, 0, tzinfo=UTC)
    assert Promoter.objects.count() == 1


def test_it_marks_a_referee_who_completed_the_action_active(
    rr_endpoint, post_json, payload
) -> None:
    document = payload("referralrocket_referee_added.json")
    document["data"]["refereeActionCompleted"] = True

    assert post_json(rr_endpoint, document).status_code == 200

    lead = rr_get(Lead, "385")
    assert lead.state == "active"
    assert lead.customer_since == datetime(2025, 2, 10, 8, 0, tzinfo=UTC)


def test_it_records_a_reward_a_referrer_unlocked(rr_endpoint, post_json, payload) -> None:
    post_json(rr_endpoint, payload("referralrocket_referrer_added_seed.json"))
    response = post_json(rr_endpoint, payload("referralrocket_reward_unlocked.json"))

    assert response.status_code == 200
    reward = rr_get(Reward, "rwd_9001")
    assert (reward.amount, reward.unit, reward.currency) == (Decimal(10), "cash", "USD")
    assert (reward.provider_status, reward.status) == ("unlocked", Reward.Status.PENDING)
    assert reward.beneficiary == Reward.Beneficiary.PROMOTER
    assert reward.promoter == rr_get(Promoter, "scG3q9Ez")
    assert reward.promoter.reward_due == Decimal(10)
    assert reward.campaign == rr_get(Campaign, "PMf8BDZ1zb")
    assert Promoter.objects.count() == 1


def test_it_records_a_referee_reward_for_the_lead(rr_endpoint, post_json, payload) -> None:
    document = payload("referralrocket_referee_added.json")
    document["eventType"] = "participant_reward_unlocked"
    document["data"]["rewardAmount"] = "5.50"

    assert post_json(rr_endpoint, document).status_code == 200

    (reward,) = Reward.objects.all()
    assert reward.beneficiary == Reward.Beneficiary.LEAD
    assert reward.lead == rr_get(Lead, "385")
    assert reward.promoter == rr_get(Promoter, "scG3q9Ez")
    assert (reward.amount, reward.currency) == (Decimal("5.50"), "USD")


def test_it_stores_an_unknown_event_type_as_ignored(rr_endpoint, post_json, payload) -> None:
    response = post_json(rr_endpoint, payload("referralrocket_unknown_event.json"))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    delivery = only_delivery()
    assert (delivery.status, delivery.event_type) == (
        WebhookDelivery.Status.IGNORED,
        "campaign_paused",
    )
    assert '"campaign_paused"' in delivery.body
    assert not any(mirrored_counts().values())


def test_it_stores_an_unknown_event_type_of_any_shape_as_ignored(rr_endpoint, post_json) -> None:
    response = post_json(rr_endpoint, {"eventType": "payout.sent", "payout": [1, 2, 3]})

    assert response.status_code == 200
    assert only_delivery().status == WebhookDelivery.Status.IGNORED
