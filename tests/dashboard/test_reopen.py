"""Reopening a decision: an approved or denied reward, not yet paid, is pending again, with a
reason, audited, from the dashboard, the admin and the REST API alike."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from referralhub.models import AuditEntry, Reward
from referralhub.services import TransitionNotAllowed, reward_reopen, rewards_act
from tests.admin.conftest import admin_url
from tests.api.conftest import client_for
from tests.factories import RewardFactory

ACT = "/dashboard/rewards/act/"


def _reopen(client: Client, reward: Reward, reason: str = "approved by mistake"):
    return client.post(
        ACT, {"ids": reward.pk, "action": "reopen", "text": reason, "next": "/dashboard/"}
    )


@pytest.mark.parametrize("status", ["approved", "denied"])
def test_a_decided_reward_is_pending_again_with_the_reason_in_its_history(
    as_alice: Client, alice: User, status: str
):
    reward = RewardFactory(status=status, decided_at=timezone.now(), decision_reason="first")

    response = _reopen(as_alice, reward)

    assert response.status_code == 302
    reward.refresh_from_db()
    assert (reward.status, reward.decided_by, reward.decision_reason) == (
        "pending",
        alice,
        "approved by mistake",
    )
    entry = AuditEntry.objects.get(action="reopen", object_id=str(reward.pk))
    assert entry.actor == alice
    assert entry.changes["status"] == [status, "pending"]
    assert entry.note == "approved by mistake"
    queue = as_alice.get("/dashboard/rewards/approvals/")
    assert reward in list(queue.context["page"].items)


def test_a_pending_reward_has_no_decision_to_reopen(alice: User):
    reward = RewardFactory(status="pending")
    with pytest.raises(TransitionNotAllowed) as refused:
        reward_reopen(reward=reward, actor=alice, reason="why not")
    assert refused.value.errors == {reward.pk: "already pending"}


@pytest.mark.parametrize("status", ["approved", "denied"])
def test_a_reward_the_provider_paid_cannot_be_reopened(as_alice: Client, status: str):
    reward = RewardFactory(status=status, date_paid=timezone.now())

    response = _reopen(as_alice, reward)

    reward.refresh_from_db()
    assert reward.status == status
    assert not AuditEntry.objects.exists()
    page = as_alice.get(f"/dashboard/rewards/{reward.pk}/")
    assert "cannot be reopened: this reward is already paid" in page.content.decode()
    assert response.status_code == 302


def test_a_paid_reward_cannot_be_approved_either(alice: User):
    reward = RewardFactory(status="pending", date_paid=timezone.now())
    with pytest.raises(TransitionNotAllowed) as refused:
        rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert refused.value.errors == {reward.pk: "already paid"}


def test_a_fulfilled_reward_cannot_be_reopened(alice: User):
    reward = RewardFactory(
        status="approved", unit="free_months", fulfilment="fulfilled", fulfilled_at=timezone.now()
    )
    with pytest.raises(TransitionNotAllowed) as refused:
        reward_reopen(reward=reward, actor=alice, reason="oops")
    assert refused.value.errors == {reward.pk: "already fulfilled"}


def test_a_reason_is_required(as_alice: Client):
    reward = RewardFactory(status="approved")
    _reopen(as_alice, reward, reason="  ")
    reward.refresh_from_db()
    assert reward.status == "approved"


def test_reopening_takes_an_approval_out_of_the_fulfilment_queue_unless_the_provider_asked(
    alice: User,
):
    queued_here = RewardFactory(unit="free_months", provider_asks_fulfilment=False)
    asked = RewardFactory(unit="free_months", fulfilment="pending", fulfilment_request_count=1)
    rewards_act(action="approve", reward_ids=[queued_here.pk, asked.pk], actor=alice)

    rewards_act(action="reopen", reward_ids=[queued_here.pk, asked.pk], actor=alice, text="x")

    queued_here.refresh_from_db()
    asked.refresh_from_db()
    assert (queued_here.fulfilment, queued_here.fulfilment_requested_at) == ("not_requested", None)
    assert asked.fulfilment == "pending"


def test_staff_who_may_only_look_or_fulfil_cannot_reopen(client: Client, bob: User, dave: User):
    reward = RewardFactory(status="approved")
    for user in (bob, dave):
        client.force_login(user)
        assert _reopen(client, reward).status_code == 403
        api_answer = client_for(user).post(
            f"/api/v1/rewards/{reward.pk}/reopen/", {"reason": "x"}, format="json"
        )
        assert api_answer.status_code == 403
    reward.refresh_from_db()
    assert reward.status == "approved"


def test_the_rest_api_reopens_and_refuses_a_paid_reward(alice: User):
    reward = RewardFactory(status="denied")
    paid = RewardFactory(status="approved", date_paid=timezone.now())
    api = client_for(alice)

    url = f"/api/v1/rewards/{reward.pk}/reopen/"
    answer = api.post(url, {"reason": "new proof"}, format="json")
    refused = api.post(f"/api/v1/rewards/{paid.pk}/reopen/", {"reason": "x"}, format="json")
    no_reason = api.post(url, {}, format="json")

    assert answer.status_code == 200
    assert answer.json()["status"] == "pending"
    assert refused.status_code == 409
    assert refused.json()["detail"] == {str(paid.pk): "already paid"}
    assert no_reason.status_code == 400


def test_the_admin_asks_for_a_reason_then_reopens(alice: User):
    reward = RewardFactory(status="approved")
    client = Client()
    client.force_login(alice)
    data = {"action": "reopen_selected", "_selected_action": [reward.pk]}

    asked = client.post(admin_url("referralhub", "reward"), {**data, "index": "0"})
    assert asked.status_code == 200
    assert "Reason" in asked.content.decode()
    reward.refresh_from_db()
    assert reward.status == "approved"

    client.post(admin_url("referralhub", "reward"), {**data, "post": "yes", "text": "mistake"})
    reward.refresh_from_db()
    assert (reward.status, reward.decision_reason) == ("pending", "mistake")


@pytest.mark.parametrize("provider", ["referralrocket", "invitereferrals", "firstpromoter"])
def test_the_provider_is_not_told_and_staff_are_asked_to_set_it_pending_there(
    as_alice: Client, provider: str
):
    reward = RewardFactory(status="approved", provider=provider, provider_status="approved")

    response = _reopen(as_alice, reward)

    messages = [str(m) for m in response.wsgi_request._messages]
    name = reward.get_provider_display()
    assert f"{name} is not told: set #{reward.pk} back to pending there too." in messages[0]
    page = as_alice.get(f"/dashboard/rewards/{reward.pk}/").content.decode()
    assert f"Set it back to pending in {name} too" in page


def test_a_webhook_does_not_decide_a_reopened_reward(alice: User):
    """FirstPromoter still says approved: its next word must not approve it again."""
    from webhooks.providers.firstpromoter.decisions import sync_decision

    reward = RewardFactory(status="approved", provider_status="approved")
    reward_reopen(reward=reward, actor=alice, reason="checking")
    sync_decision(reward.pk)
    reward.refresh_from_db()
    assert reward.status == "pending"
