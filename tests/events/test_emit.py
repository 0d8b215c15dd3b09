"""Events for each staff action and each webhook-driven change, written with the change."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from referralhub.api.serializers import RewardSerializer
from referralhub.mirror import Snapshot
from referralhub.models import Event, EventDelivery, Reward
from referralhub.services import rewards_act
from tests.conftest import PAYLOADS
from tests.factories import RewardFactory


def types() -> list[str]:
    return list(Event.objects.order_by("pk").values_list("type", flat=True))


def test_nothing_is_written_when_no_subscription_wants_the_type(alice, subscribe):
    subscribe(["lead.created"])
    reward = RewardFactory()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    assert types() == []


@pytest.mark.parametrize(
    ("action", "text", "expected"),
    [
        ("approve", "", "reward.approved"),
        ("deny", "duplicate", "reward.denied"),
    ],
)
def test_a_staff_decision_emits_its_event_with_the_api_shape(
    alice, subscribe, client, action, text, expected
):
    subscribe()
    reward = RewardFactory()
    rewards_act(action=action, reward_ids=[reward.pk], actor=alice, text=text)
    event = Event.objects.get()
    assert event.type == expected
    client.force_login(alice)
    assert event.data == client.get(f"/api/v1/rewards/{reward.pk}/").json()
    assert set(event.payload()) == {"type", "timestamp", "data"}


def test_a_staff_fulfilment_emits_reward_fulfilled(alice, subscribe):
    subscribe(["reward.fulfilled"])
    reward = RewardFactory(status=Reward.Status.APPROVED, unit="free_months")
    rewards_act(action="fulfil", reward_ids=[reward.pk], actor=alice)
    assert types() == ["reward.fulfilled"]
    assert Event.objects.get().data["fulfilment"] == "fulfilled"


def test_a_rolled_back_change_emits_nothing_and_sends_nothing(
    alice, subscribe, run_tasks, receiver
):
    subscribe()
    reward = RewardFactory()

    def approve_then_fail() -> None:
        with transaction.atomic():
            rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
            assert types() == ["reward.approved"]
            raise RuntimeError("the caller's change fails after the action")

    with pytest.raises(RuntimeError):
        approve_then_fail()
    assert types() == []
    run_tasks()
    assert receiver.received == []


def test_events_are_sent_to_the_subscriptions_that_want_them(alice, subscribe, run_tasks):
    everything, _ = subscribe()
    approvals, _ = subscribe(["reward.approved"])
    _denials, _ = subscribe(["reward.denied"])
    reward = RewardFactory()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    run_tasks()
    assert set(EventDelivery.objects.values_list("subscription", "status")) == {
        (everything.pk, "succeeded"),
        (approvals.pk, "succeeded"),
    }


def test_the_payload_is_the_rewards_api_serializer_output(alice, subscribe):
    subscribe()
    reward = RewardFactory()
    rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
    reward.refresh_from_db()
    assert set(Event.objects.get().data) == set(RewardSerializer.Meta.fields)


# Webhook-driven changes: the mirror's rows, compared before and after each delivery.


def test_a_lead_signup_emits_created_events(fp_endpoint, post_json, payload, subscribe):
    subscribe()
    assert post_json(fp_endpoint, payload("firstpromoter_lead_signup.json")).status_code == 200
    assert sorted(types()) == ["lead.created", "promoter.created"]
    lead = Event.objects.get(type="lead.created").data
    assert lead["email"] == "new.lead@example.com"


def test_a_lead_becoming_a_customer_then_cancelling(fp_endpoint, post_json, payload, subscribe):
    post_json(fp_endpoint, payload("firstpromoter_lead_signup.json"))
    subscribe(["lead.updated", "lead.converted", "lead.cancelled"])
    converted = payload("firstpromoter_lead_signup.json")
    converted["event"] = {**converted["event"], "id": 1, "created_at": "2023-08-22T10:00:01Z"}
    converted["data"] = {**converted["data"], "customer_since": "2023-08-22T10:00:00Z"}
    converted["data"]["state"] = "active"
    assert post_json(fp_endpoint, converted).status_code == 200
    assert types() == ["lead.updated", "lead.converted"]
    assert post_json(fp_endpoint, payload("firstpromoter_lead_cancelled.json")).status_code == 200
    assert types()[2:] == ["lead.updated", "lead.cancelled"]
    assert Event.objects.latest("pk").data["cancelled_at"] == "2023-09-01T12:00:00Z"


def test_an_older_delivery_that_changes_nothing_emits_nothing(
    fp_endpoint, post_json, payload, subscribe
):
    post_json(fp_endpoint, payload("firstpromoter_lead_cancelled.json"))
    subscribe()
    older = payload("firstpromoter_lead_signup.json")
    assert post_json(fp_endpoint, older).status_code == 200
    assert "lead.updated" not in types()


def test_a_reward_from_a_webhook_emits_reward_created(fp_endpoint, post_json, payload, subscribe):
    subscribe(["reward.created", "reward.approved"])
    assert post_json(fp_endpoint, payload("firstpromoter_reward_created.json")).status_code == 200
    assert types() == ["reward.created"]
    assert Event.objects.get().data["status"] == "pending"


def test_a_conversion_emits_conversion_created(ir_endpoint, client, subscribe):
    subscribe(["conversion.created", "lead.converted"])
    body = (PAYLOADS / "invitereferrals_conversion_seed.json").read_text()
    assert client.post(ir_endpoint.path, body, content_type="application/json").status_code == 200
    assert sorted(types()) == ["conversion.created", "lead.converted"]


def test_a_failed_processing_emits_delivery_failed(fp_endpoint, post_json, payload, subscribe):
    subscribe(["delivery.failed"])
    with mock.patch("referralhub.mirror.Snapshot.save", side_effect=RuntimeError("disk full")):
        assert post_json(fp_endpoint, payload("firstpromoter_lead_signup.json")).status_code == 500
    event = Event.objects.get()
    assert (event.type, event.data["status"]) == ("delivery.failed", "failed")
    assert "disk full" in event.data["error"]


def test_a_failed_processing_emits_no_mirror_event(fp_endpoint, post_json, payload, subscribe):
    subscribe(["lead.created", "promoter.created"])
    save = Snapshot.save

    def save_then_fail(snapshot: Snapshot) -> dict:
        save(snapshot)
        raise RuntimeError("fails after the rows are written")

    with mock.patch.object(Snapshot, "save", save_then_fail):
        assert post_json(fp_endpoint, payload("firstpromoter_lead_signup.json")).status_code == 500
    assert types() == []


def _again(document: dict, event_id: int, at: str, **data: object) -> dict:
    """The same object in a later delivery of the provider's."""
    return {
        **document,
        "event": {**document["event"], "id": event_id, "created_at": at},
        "data": {**document["data"], **data},
    }


def test_a_reward_the_provider_approves_then_pays(fp_endpoint, post_json, payload, subscribe):
    reward = payload("firstpromoter_reward_created.json")
    post_json(fp_endpoint, reward)
    subscribe(["reward.approved", "reward.paid", "reward.denied"])
    approved = _again(reward, 1, "2023-08-24T10:00:00Z", status="approved")
    assert post_json(fp_endpoint, approved).status_code == 200
    assert types() == ["reward.approved"]
    assert Event.objects.get().data["status"] == "approved"
    paid = _again(
        reward, 2, "2023-09-01T10:00:00Z", status="approved", date_paid="2023-09-01T09:00:00Z"
    )
    assert post_json(fp_endpoint, paid).status_code == 200
    assert types() == ["reward.approved", "reward.paid"]


def test_a_reward_the_provider_denies(fp_endpoint, post_json, payload, subscribe):
    reward = payload("firstpromoter_reward_created.json")
    post_json(fp_endpoint, reward)
    subscribe()
    denied = _again(reward, 1, "2023-08-24T10:00:00Z", status="denied")
    assert post_json(fp_endpoint, denied).status_code == 200
    assert "reward.denied" in types()
    assert "reward.created" not in types()


def test_a_promoter_changed_by_a_webhook_emits_promoter_updated(
    fp_endpoint, post_json, payload, subscribe
):
    post_json(fp_endpoint, payload("firstpromoter_promoter_signed_up.json"))
    subscribe(["promoter.updated", "promoter.created"])
    assert (
        post_json(fp_endpoint, payload("firstpromoter_promoter_accepted.json")).status_code == 200
    )
    assert "promoter.updated" in types()
    assert "promoter.created" not in types()


def test_a_rejected_delivery_emits_delivery_failed(fp_endpoint, post_json, subscribe):
    subscribe(["delivery.failed"])
    assert post_json(fp_endpoint, "{not json").status_code == 400
    event = Event.objects.get()
    assert (event.type, event.data["status"]) == ("delivery.failed", "rejected")


def test_a_rejected_delivery_costs_no_transaction_when_nobody_listens(
    fp_endpoint, post_json, django_assert_max_num_queries
):
    post_json(fp_endpoint, "{not json")  # the endpoint's row, cached after
    # The lookup, the insert, the mark, and the count of the alert the first one raised.
    with django_assert_max_num_queries(4):
        assert post_json(fp_endpoint, "{still not json").status_code == 400
