"""FirstPromoter's fulfilment protocol: `fulfilment_pending` is answered 202 while the reward
waits in the hub's fulfilment queue, and exactly 200 once staff have fulfilled it."""

from __future__ import annotations

import pytest

from referralhub.models import Reward
from referralhub.services import (
    done_message,
    reward_approve,
    reward_deny,
    reward_fulfil,
    rewards_act,
)
from webhooks.models import WebhookDelivery

SEED = "fulfilment_pending_seed"


def seed_reward() -> Reward:
    return Reward.objects.get(provider="firstpromoter", external_id="2429153")


def test_it_queues_the_reward_and_answers_202_pending(fp_endpoint, post_json, fp_event) -> None:
    response = post_json(fp_endpoint, fp_event(SEED))

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["fulfilment"], body["reward_id"]) == (
        "pending",
        "pending",
        "2429153",
    )
    reward = seed_reward()
    assert list(Reward.objects.filter(fulfilment=Reward.Fulfilment.PENDING)) == [reward]
    assert reward.fulfilment_request_count == 1
    assert reward.fulfilment_requested_at == reward.fulfilment_last_requested_at
    assert reward.fulfilled_at is None


def test_it_keeps_answering_202_and_counts_each_ask_until_fulfilled(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event(SEED))
    first_asked = seed_reward().fulfilment_requested_at

    redelivered = post_json(fp_endpoint, fp_event(SEED))
    next_check = post_json(fp_endpoint, fp_event(SEED, event_id=13007876))

    assert redelivered.status_code == next_check.status_code == 202
    reward = seed_reward()
    assert reward.fulfilment_request_count == 3
    assert reward.fulfilment_requested_at == first_asked
    assert first_asked is not None
    assert reward.fulfilment_last_requested_at is not None
    assert reward.fulfilment_last_requested_at > first_asked
    assert Reward.objects.count() == 1


def test_it_answers_exactly_200_once_staff_have_fulfilled_the_reward(
    fp_endpoint, post_json, fp_event, alice
) -> None:
    post_json(fp_endpoint, fp_event(SEED))
    reward_fulfil(reward=seed_reward(), actor=alice, note="Voucher sent")

    redelivered = post_json(fp_endpoint, fp_event(SEED))
    new_event = post_json(fp_endpoint, fp_event(SEED, event_id=13009999))

    assert redelivered.status_code == 200
    assert new_event.status_code == 200
    assert redelivered.json()["status"] == new_event.json()["status"] == "fulfilled"
    reward = seed_reward()
    assert reward.fulfilment == Reward.Fulfilment.FULFILLED
    assert reward.fulfilled_by == alice
    assert reward.fulfilment_note == "Voucher sent"
    assert reward.fulfilment_request_count == 1  # asks after fulfilment are not queued
    first = WebhookDelivery.objects.get(idempotency_key="event:13007875")
    assert (first.response_status, first.attempts) == (200, 2)


def test_it_waits_for_approval_when_the_campaign_does_not_auto_approve(
    fp_endpoint, post_json, fp_event, alice
) -> None:
    document = fp_event(SEED)
    document["data"]["campaign"]["auto_approve_rewards"] = False

    assert post_json(fp_endpoint, document).status_code == 202

    reward = seed_reward()
    assert reward.status == Reward.Status.PENDING
    assert reward.fulfilment == Reward.Fulfilment.PENDING
    with pytest.raises(Exception, match="approve it before fulfilling it"):
        reward_fulfil(reward=reward, actor=alice)
    reward_approve(reward=reward, actor=alice)
    reward_fulfil(reward=seed_reward(), actor=alice)
    assert post_json(fp_endpoint, document).status_code == 200


def test_it_never_undoes_a_staff_decision(fp_endpoint, post_json, fp_event, alice) -> None:
    document = fp_event(SEED)
    document["data"]["campaign"]["auto_approve_rewards"] = False
    post_json(fp_endpoint, document)
    reward_deny(reward=seed_reward(), actor=alice, reason="Self-referral")

    later = fp_event(SEED, event_id=13007877, at="2023-08-24T11:06:02.663Z")
    later["data"]["status"] = "approved"
    post_json(fp_endpoint, later)

    reward = seed_reward()
    assert (reward.status, reward.provider_status) == ("denied", "approved")
    assert reward.decided_by == alice


def test_it_tells_firstpromoter_a_denied_reward_will_not_be_fulfilled(
    fp_endpoint, post_json, fp_event, alice
) -> None:
    """Not 202 (FirstPromoter would ask every day forever) and never 200 (it would mark the
    reward fulfilled): an error, which FirstPromoter retries, then flags `has_issues`."""
    document = fp_event(SEED)
    document["data"]["campaign"]["auto_approve_rewards"] = False
    assert post_json(fp_endpoint, document).status_code == 202
    reward_deny(reward=seed_reward(), actor=alice, reason="Self-referral")

    retried = post_json(fp_endpoint, document)
    next_check = post_json(fp_endpoint, fp_event(SEED, event_id=13007878))

    for response in (retried, next_check):
        assert response.status_code == 409
        assert response.json()["error"] == "reward_denied"
        assert "Deny it in FirstPromoter too" in response.json()["detail"]
    reward = seed_reward()
    assert (reward.status, reward.fulfilment_request_count) == ("denied", 3)  # each ask counted
    assert WebhookDelivery.objects.get(idempotency_key="event:13007878").status == "processed"


def test_it_keeps_the_has_issues_flag(fp_endpoint, post_json, fp_event) -> None:
    document = fp_event(SEED)
    document["data"]["has_issues"] = True

    post_json(fp_endpoint, document)

    assert seed_reward().has_issues is True


def test_a_staff_approve_queues_a_non_monetary_reward_before_firstpromoter_asks(
    fp_endpoint, post_json, fp_event, alice
) -> None:
    document = fp_event("reward_created")
    document["data"]["unit"] = "free_months"
    post_json(fp_endpoint, document)
    reward = Reward.objects.get(external_id="2429200")
    assert reward.fulfilment == Reward.Fulfilment.NOT_REQUESTED

    approved = reward_approve(reward=reward, actor=alice)

    assert (approved.fulfilment, approved.fulfilment_requested_at) == (
        Reward.Fulfilment.PENDING,
        approved.decided_at,
    )
    assert not approved.mark_fulfilled_at_provider  # legacy webhooks ask, and read the answer
    # FirstPromoter's ask, when it comes, counts against the same entry.
    asked = fp_event(SEED)
    asked["data"]["id"] = 2429200
    assert post_json(fp_endpoint, asked).status_code == 202
    reward = Reward.objects.get(external_id="2429200")
    assert (reward.fulfilment_requested_at, reward.fulfilment_request_count) == (
        approved.decided_at,
        1,
    )


@pytest.mark.parametrize(
    ("provider", "unit", "queued"),
    [
        ("referralrocket", "voucher", True),  # Referral Rocket never asks either
        ("firstpromoter", "cash", False),  # paid from the payout export, not fulfilled
        ("referralrocket", "", False),
    ],
)
def test_a_staff_approve_queues_only_what_someone_delivers(alice, provider, unit, queued) -> None:
    reward = Reward.objects.create(provider=provider, external_id="r1", amount=10, unit=unit)

    approved = reward_approve(reward=reward, actor=alice)

    assert (approved.fulfilment == Reward.Fulfilment.PENDING) is queued
    assert approved.mark_fulfilled_at_provider is queued
    assert Reward.objects.filter(Reward.WAITING_FOR_FULFILMENT).exists() is queued


def test_the_fulfilment_message_says_what_each_provider_learns(alice) -> None:
    def approved(provider: str, external_id: str, asks: bool) -> Reward:
        reward = Reward.objects.create(
            provider=provider,
            external_id=external_id,
            amount=3,
            unit="free_months",
            provider_asks_fulfilment=asks,
        )
        return reward_approve(reward=reward, actor=alice)

    legacy, v2 = approved("firstpromoter", "1", True), approved("firstpromoter", "2", False)
    rocket = approved("referralrocket", "3", False)
    done = rewards_act(action="fulfil", reward_ids=[legacy.pk, v2.pk, rocket.pk], actor=alice)

    assert done_message("fulfil", done, "Sent") == (
        f"Marked 3 rewards fulfilled (#{legacy.pk}, #{v2.pk}, #{rocket.pk}) — “Sent”."
        " The provider's next fulfilment request will be answered 200."
        f" FirstPromoter is not told: mark #{v2.pk} fulfilled in FirstPromoter too."
        f" Referral Rocket is not told: mark #{rocket.pk} fulfilled in Referral Rocket too."
    )
    assert done_message("approve", [legacy, v2]) == (
        f"Approved 2 rewards (#{legacy.pk}, #{v2.pk})."
        f" Waiting in the fulfilment queue: #{legacy.pk}, #{v2.pk}."
    )
    cash = Reward.objects.create(provider="firstpromoter", external_id="4", amount=9, unit="cash")
    cash = reward_approve(reward=cash, actor=alice)
    assert done_message("approve", [cash]) == f"Approved 1 reward (#{cash.pk})."
