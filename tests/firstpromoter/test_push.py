"""Staff decisions reach FirstPromoter's API: one call per action, retried until it is taken or a
person is shown why not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from referralhub.models import Reward
from referralhub.services import done_message, rewards_act
from tests.firstpromoter.conftest import make_commission, pushes
from webhooks.models import ApiRateBudget, CommissionPush, WebhookEndpoint
from webhooks.providers.firstpromoter import push

ACT = "/dashboard/rewards/act/"


def test_approving_one_commission_tells_firstpromoter_its_id(
    as_alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission()

    as_alice.post(ACT, {"row": f"approve:{reward.pk}"})
    assert pushes(reward) == [("approve", "pending")]
    run_tasks()

    assert fp_api.action_calls() == [[int(reward.external_id)]]
    assert fp_api.objects["commissions"][int(reward.external_id)]["status"] == "approved"
    assert pushes(reward) == [("approve", "done")]


def test_a_bulk_approval_is_one_call_whose_batch_is_polled_to_the_end(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    rewards = [commission() for _ in range(12)]
    fp_api.batch_polls = 2

    rewards_act(action="approve", reward_ids=[r.pk for r in rewards], actor=alice)
    run_tasks()

    assert fp_api.action_calls("approve") == [[int(r.external_id) for r in rewards]]
    polls = [path for method, path, _ in fp_api.calls if path.startswith("/batch_processes/")]
    assert polls == ["/batch_processes/1", "/batch_processes/1"]
    assert all(c["status"] == "approved" for c in fp_api.objects["commissions"].values())
    assert set(CommissionPush.objects.values_list("state", flat=True)) == {"done"}


def test_a_hundred_ids_go_in_one_call_and_more_in_a_second(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    rewards = [commission() for _ in range(130)]
    rewards_act(action="deny", reward_ids=[r.pk for r in rewards[:100]], actor=alice, text="no")
    rewards_act(action="deny", reward_ids=[r.pk for r in rewards[100:]], actor=alice, text="no")
    run_tasks()

    assert [len(ids) for ids in fp_api.action_calls("deny")] == [100, 30]
    assert CommissionPush.objects.filter(state="done").count() == 130


def test_denying_through_the_rest_api_tells_firstpromoter(
    api, alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission()
    response = api(alice).post(
        f"/api/v1/rewards/{reward.pk}/deny/", {"reason": "fraud"}, format="json"
    )
    assert response.status_code == 200
    run_tasks()
    assert fp_api.action_calls("deny") == [[int(reward.external_id)]]


def test_a_decision_that_rolls_back_sends_nothing(alice, api_endpoint, fp_api, commission):
    reward = commission()

    def decide_then_fail() -> None:
        with transaction.atomic():
            rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
            raise RuntimeError("the request failed after the decision")

    with pytest.raises(RuntimeError):
        decide_then_fail()

    assert not CommissionPush.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert fp_api.calls == []


def test_without_api_credentials_staff_are_told_to_mark_it_at_firstpromoter(
    alice, fp_endpoint, run_tasks
):
    reward = make_commission(unit="free_months", status="approved", fulfilment="pending")

    done = rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)

    assert not CommissionPush.objects.exists()
    assert f"mark #{reward.pk} fulfilled in FirstPromoter too" in done_message("fulfil", done)


def test_a_fulfilment_is_sent_after_the_approval_and_staff_are_not_asked_to_mark_it(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission(unit="free_months", currency="")
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    done = rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)
    message = done_message("fulfil", done)
    run_tasks()

    assert "in FirstPromoter too" not in message
    assert f"FirstPromoter is told through its API: #{reward.pk}" in message
    assert [path for method, path, _ in fp_api.calls if method == "POST"] == [
        "/commissions/approve",
        "/commissions/mark_fulfilled",
    ]
    assert fp_api.objects["commissions"][int(reward.external_id)]["fulfilled"] is True
    assert pushes(reward) == [("approve", "done"), ("mark_fulfilled", "done")]


def test_the_api_tells_staff_to_mark_only_what_firstpromoter_is_not_told(
    alice, api, api_endpoint, fp_api, commission, run_tasks, django_assert_max_num_queries
):
    told = commission(unit="free_months", currency="")
    rewards_act(action="approve", reward_ids=[told.pk], actor=alice)
    rewards_act(action="fulfil", reward_ids=[told.pk], actor=alice)
    refused = commission(unit="credits", currency="")
    rewards_act(action="approve", reward_ids=[refused.pk], actor=alice)
    rewards_act(action="fulfil", reward_ids=[refused.pk], actor=alice)
    run_tasks()
    CommissionPush.objects.filter(reward=refused, action="mark_fulfilled").update(state="failed")
    client = api(alice)
    client.get("/api/v1/rewards/")  # warm caches (content types, session) out of the count

    with django_assert_max_num_queries(6) as few:
        shown = {
            r["id"]: r["mark_fulfilled_at_provider"]
            for r in client.get("/api/v1/rewards/").json()["results"]
        }
    for _ in range(10):
        extra = commission(unit="points", currency="")
        rewards_act(action="approve", reward_ids=[extra.pk], actor=alice)
        rewards_act(action="fulfil", reward_ids=[extra.pk], actor=alice)
    with django_assert_max_num_queries(6) as many:
        assert client.get("/api/v1/rewards/").status_code == 200

    # Fulfilled and sent: nothing to mark. FirstPromoter refused the fulfilment: someone marks it
    # there.
    assert shown == {told.pk: False, refused.pk: True}
    assert len(many.captured_queries) == len(few.captured_queries)
    assert client.get(f"/api/v1/rewards/{told.pk}/").json()["mark_fulfilled_at_provider"] is False


def test_a_legacy_fulfilment_is_answered_to_firstpromoter_not_sent(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission(
        unit="free_months", status="approved", fulfilment="pending", provider_asks_fulfilment=True
    )
    rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    assert pushes(reward) == []
    assert fp_api.calls == []


def test_cash_fulfilment_is_not_a_firstpromoter_call(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission(status="approved")
    rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)
    assert pushes(reward) == []


@pytest.mark.parametrize("fault", [("status", 503), ("status", 500), ("drop",)])
def test_a_server_error_or_a_dropped_connection_is_retried_and_then_succeeds(
    alice, api_endpoint, fp_api, commission, run_tasks, time_passes, fault
):
    reward = commission()
    fp_api.faults.append(fault)
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()

    row = CommissionPush.objects.get()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.error
    assert run_tasks() == 0  # it waits for its back-off

    time_passes(push.backoff(1))
    run_tasks()
    assert pushes(reward) == [("approve", "done")]
    assert fp_api.objects["commissions"][int(reward.external_id)]["status"] == "approved"


def test_a_call_applied_before_the_connection_dropped_is_sent_again_and_approves_once(
    alice, api_endpoint, fp_api, commission, run_tasks, time_passes
):
    reward = commission()
    fp_api.faults.append(("drop_after",))
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    time_passes(push.backoff(1))
    run_tasks()

    assert len(fp_api.action_calls("approve")) == 2
    assert fp_api.applied[("approve", int(reward.external_id))] == 1
    assert pushes(reward) == [("approve", "done")]


def test_a_worker_killed_mid_call_leaves_the_call_to_its_task_run_again(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    """The task's worker died after FirstPromoter applied the call: the task, put back in the
    queue (manage.py db_worker does so as the worker restarts), takes its lease back and sends
    the call again; FirstPromoter still approved it once."""
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    result = DBTaskResult.objects.get()
    push._claim(api_endpoint, f"task:{result.id}")
    fp_api.answer("POST", "/commissions/approve", {}, {"ids": [int(reward.external_id)]})

    run_tasks()

    assert fp_api.applied[("approve", int(reward.external_id))] == 1
    assert pushes(reward) == [("approve", "done")]


def test_another_task_leaves_a_leased_call_alone_until_the_lease_ends(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert push._claim(api_endpoint, "task:elsewhere")
    run_tasks()
    assert fp_api.calls == []
    CommissionPush.objects.update(claimed_until=CommissionPush.objects.get().created)
    push.enqueue(push.send_pushes, api_endpoint.pk)
    run_tasks()
    assert pushes(reward) == [("approve", "done")]


def test_a_429_is_waited_out_by_every_worker(
    alice, api_endpoint, fp_api, commission, run_tasks, time_passes
):
    fp_api.limit = 1
    first, second = commission(), commission()
    rewards_act(action="approve", reward_ids=[first.pk], actor=alice)
    run_tasks()
    rewards_act(action="approve", reward_ids=[second.pk], actor=alice)
    run_tasks()

    row = CommissionPush.objects.get(reward=second)
    assert (row.state, row.attempts) == ("pending", 0)
    assert "rate limit" in row.error
    budget = ApiRateBudget.objects.get(account_id=fp_api.account_id)
    assert budget.blocked_until > row.updated.timestamp() + 50
    assert run_tasks() == 0

    fp_api.limit = 400
    ApiRateBudget.objects.update(blocked_until=0)
    time_passes(timedelta(seconds=61))
    run_tasks()
    assert pushes(second) == [("approve", "done")]


def test_a_422_is_shown_as_failed_and_not_retried(
    alice, api_endpoint, fp_api, commission, run_tasks, time_passes
):
    reward = commission()
    fp_api.invalid_ids.add(int(reward.external_id))
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    time_passes(timedelta(days=2))

    run_tasks()  # the alert of the failure only: nothing is sent to FirstPromoter again
    row = CommissionPush.objects.get()
    assert row.state == "failed"
    assert row.error == (
        f"FirstPromoter refused it (422): Commission {reward.external_id} cannot be changed"
    )
    assert len(fp_api.action_calls()) == 1


def test_wrong_credentials_fail_with_a_reason_staff_can_act_on(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    WebhookEndpoint.objects.update(api_key="not-the-key")
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    row = CommissionPush.objects.get()
    assert row.state == "failed"
    assert "401" in row.error
    assert "API credentials" in row.error


def test_errors_are_retried_for_a_day_then_failed(
    alice, api_endpoint, fp_api, commission, run_tasks, time_passes
):
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    waits = []
    for _ in range(40):
        fp_api.faults.append(("status", 502))
        run_tasks()
        row = CommissionPush.objects.get()
        if row.state == "failed":
            break
        wait = row.next_attempt_at - row.updated
        waits.append(wait)
        time_passes(wait + timedelta(seconds=1))
    assert row.state == "failed"
    assert row.error.startswith(f"Gave up after {row.attempts} attempts in a day: ")
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    assert waits[0] < waits[1] < waits[2]
    assert max(waits) <= timedelta(hours=1, seconds=1)


def test_a_batch_with_failures_is_read_back_per_commission(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    rewards = [commission() for _ in range(7)]
    gone = rewards[3]
    del fp_api.objects["commissions"][int(gone.external_id)]
    rewards_act(action="approve", reward_ids=[r.pk for r in rewards], actor=alice)
    run_tasks()

    states = dict(CommissionPush.objects.values_list("reward_id", "state"))
    assert states.pop(gone.pk) == "failed"
    assert set(states.values()) == {"done"}
    assert "not found" in CommissionPush.objects.get(reward=gone).error


def test_firstpromoters_webhook_confirms_the_decision_without_a_conflict(
    as_alice, alice, api_endpoint, fp_api, commission, post_json, payload
):
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    body = payload("firstpromoter_v2_commission_updated.json")
    body["event_type"], body["data"]["id"] = "commission.updated", int(reward.external_id)
    body["data"]["status"] = "approved"
    v2_endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")

    assert post_json(v2_endpoint, body).status_code == 200

    row = CommissionPush.objects.get()
    assert (row.state, row.note) == ("done", "Confirmed by FirstPromoter's webhook.")
    reward.refresh_from_db()
    assert (reward.status, reward.decided_by, reward.provider_status) == (
        "approved",
        alice,
        "approved",
    )
    page = as_alice.get(f"/dashboard/rewards/{reward.pk}/").content.decode()
    assert "denied" not in page.lower()


def test_rewards_of_several_firstpromoter_accounts_are_not_sent(alice, api_endpoint, fp_api):
    WebhookEndpoint.objects.create(provider="firstpromoter", api_key="k2", api_account_id="acc-2")
    reward = make_commission(fp_api)
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert not CommissionPush.objects.exists()


def test_other_providers_are_never_sent(alice, api_endpoint, run_tasks):
    reward = Reward.objects.create(provider="referralrocket", external_id="r-1", unit="cash")
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert not CommissionPush.objects.exists()


def test_a_422_for_one_id_of_a_bulk_fails_that_commission_alone(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    rewards = [commission() for _ in range(3)]
    fp_api.invalid_ids.add(int(rewards[1].external_id))
    rewards_act(action="approve", reward_ids=[r.pk for r in rewards], actor=alice)
    run_tasks()

    assert [pushes(r) for r in rewards] == [
        [("approve", "done")],
        [("approve", "failed")],
        [("approve", "done")],
    ]
    assert fp_api.action_calls("approve")[0] == [int(r.external_id) for r in rewards]


def test_a_fulfilment_waiting_for_a_refused_approval_says_so_until_it_is_retried(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission(unit="free_months", currency="")
    fp_api.invalid_ids.add(int(reward.external_id))
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)
    run_tasks()

    fulfil = CommissionPush.objects.get(action="mark_fulfilled")
    assert (fulfil.state, fulfil.error) == ("pending", push.WAITING)
    assert fulfil in push.problems()

    fp_api.invalid_ids.clear()
    push.pushes_retry(list(CommissionPush.objects.filter(state="failed")))
    run_tasks()
    assert pushes(reward) == [("approve", "done"), ("mark_fulfilled", "done")]
    assert CommissionPush.objects.get(action="mark_fulfilled").error == ""


def test_firstpromoter_gets_no_call_and_a_later_decision_is_sent_afresh(
    alice, api_endpoint, fp_api, commission, run_tasks
):
    reward = commission()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    assert fp_api.action_calls() == [[int(reward.external_id)]]

    rewards_act(action="reopen", reward_ids=[reward.pk], actor=alice, text="checking again")
    run_tasks()
    assert len(fp_api.action_calls()) == 1  # FirstPromoter's API has no way back to pending
    assert pushes(reward) == [("approve", "done")]

    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert pushes(reward) == [("approve", "pending")]
    run_tasks()
    assert fp_api.action_calls("approve") == [[int(reward.external_id)]] * 2
    assert pushes(reward) == [("approve", "done")]
