"""Staff see whether FirstPromoter has their decisions, and send failed ones again."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from referralhub.models import AuditEntry
from referralhub.services import rewards_act
from tests.conftest import make_staff
from tests.firstpromoter.conftest import pushes
from webhooks.models import CommissionPush

SYNC = "/dashboard/firstpromoter/sync/"
RETRY = "/dashboard/firstpromoter/sync/retry/"


@pytest.fixture
def refused(alice, api_endpoint, fp_api, commission, run_tasks):
    """A commission whose approval FirstPromoter refused (422)."""
    reward = commission()
    fp_api.invalid_ids.add(int(reward.external_id))
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    assert pushes(reward) == [("approve", "failed")]
    return reward


def test_the_sync_page_lists_a_refused_decision_with_the_reason(as_alice: Client, refused):
    page = as_alice.get(SYNC).content.decode()
    assert f"#{refused.pk}" in page
    assert f"Commission {refused.external_id} cannot be changed" in page
    assert 'name="ids"' in page


def test_the_reward_page_and_the_queue_show_the_state(as_alice: Client, refused):
    page = as_alice.get(f"/dashboard/rewards/{refused.pk}/").content.decode()
    assert "FirstPromoter refused it (422)" in page
    assert "Send it again from the sync problems" in page


def test_the_fulfilment_queue_shows_the_approvals_state_and_who_is_told(
    as_alice: Client, alice, api_endpoint, commission, run_tasks
):
    reward = commission(unit="free_months", currency="")
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    page = as_alice.get("/dashboard/rewards/fulfilments/").content.decode()
    assert "Sending to FirstPromoter" in page
    assert "FirstPromoter is told through its API once fulfilled" in page
    run_tasks()
    assert (
        "FirstPromoter has it" in as_alice.get("/dashboard/rewards/fulfilments/").content.decode()
    )


def test_staff_who_may_only_look_see_no_retry_and_cannot_forge_one(as_bob: Client, refused):
    page = as_bob.get(SYNC)
    assert page.status_code == 200
    assert 'name="ids"' not in page.content.decode()
    push = CommissionPush.objects.get()
    assert as_bob.post(RETRY, {"ids": [push.pk]}).status_code == 403
    assert CommissionPush.objects.get().state == "failed"


def test_a_fulfiller_cannot_retry_an_approval(client: Client, refused):
    client.force_login(make_staff("fay", "referralhub.view_reward", "referralhub.fulfil_reward"))
    push = CommissionPush.objects.get()
    assert client.post(RETRY, {"ids": [push.pk]}).status_code == 403
    assert CommissionPush.objects.get().state == "failed"


def test_staff_without_the_view_permission_are_refused(client: Client, db):
    client.force_login(make_staff("eve"))
    assert client.get(SYNC).status_code == 403


def test_people_who_are_not_staff_are_sent_to_log_in_or_refused(client: Client, db):
    assert client.get(SYNC).status_code == 302
    client.force_login(User.objects.create_user("mallory", password="pw"))
    assert client.get(SYNC).status_code == 403


def test_retrying_sends_it_again_and_is_audited(
    as_alice: Client, alice, refused, fp_api, run_tasks
):
    fp_api.invalid_ids.clear()
    push = CommissionPush.objects.get()
    response = as_alice.post(RETRY, {"ids": [push.pk]}, follow=True)
    assert "Sending 1 decision again." in response.content.decode()
    entry = AuditEntry.objects.get(action="retry_push")
    assert (entry.actor, entry.object_id) == (alice, str(refused.pk))
    run_tasks()
    assert pushes(refused) == [("approve", "done")]
    assert f"#{refused.pk}" not in as_alice.get(SYNC).content.decode()


def test_the_api_exposes_and_filters_the_state(api, alice, refused, commission):
    client = api(alice)
    commission()
    body = client.get("/api/v1/rewards/", {"provider_sync": "failed"}).json()
    assert [r["id"] for r in body["results"]] == [refused.pk]
    assert body["results"][0]["provider_sync"] == "failed"
    assert "422" in body["results"][0]["provider_sync_error"]
    assert client.get("/api/v1/rewards/", {"provider_sync": "nope"}).status_code == 400


def test_the_sync_page_costs_the_same_queries_for_many_rows(
    as_alice: Client,
    alice,
    api_endpoint,
    fp_api,
    commission,
    run_tasks,
    django_assert_max_num_queries,
):
    rewards = [commission() for _ in range(30)]
    fp_api.invalid_ids.update(int(r.external_id) for r in rewards)
    for reward in rewards:
        rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    with django_assert_max_num_queries(8):
        assert as_alice.get(SYNC).status_code == 200
