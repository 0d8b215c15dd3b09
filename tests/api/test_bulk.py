"""Bulk actions: 1 to 100 distinct ids, all or nothing, per-id reasons when refused."""

from __future__ import annotations

import pytest

from referralhub.models import AuditEntry, Reward
from tests.factories import RewardFactory

URL = "/api/v1/rewards/bulk/"


@pytest.fixture
def client(api, alice):
    return api(alice)


def bulk(client, body):
    return client.post(URL, body, format="json")


def test_it_approves_many_at_once(client, alice):
    rewards = RewardFactory.create_batch(3)
    response = bulk(client, {"action": "approve", "ids": [r.pk for r in rewards], "note": "ok"})
    assert response.status_code == 200
    body = response.json()
    assert (body["action"], body["count"]) == ("approve", 3)
    assert {r["status"] for r in body["rewards"]} == {"approved"}
    assert set(Reward.objects.values_list("status", flat=True)) == {"approved"}
    assert AuditEntry.objects.filter(actor=alice, action="approve").count() == 3


def test_it_denies_many_with_the_reason(client):
    rewards = RewardFactory.create_batch(2)
    body = {"action": "deny", "ids": [r.pk for r in rewards], "reason": "fraud ring"}
    assert bulk(client, body).status_code == 200
    assert set(Reward.objects.values_list("decision_reason", flat=True)) == {"fraud ring"}


def test_it_fulfils_many(client):
    rewards = RewardFactory.create_batch(2, status="approved", fulfilment="pending")
    response = bulk(client, {"action": "fulfil", "ids": [r.pk for r in rewards]})
    assert response.status_code == 200
    assert set(Reward.objects.values_list("fulfilment", flat=True)) == {"fulfilled"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "approve", "ids": []}, "ids"),
        ({"action": "approve", "ids": list(range(1, 102))}, "ids"),
        ({"action": "approve", "ids": [1, 1]}, "ids"),
        ({"action": "approve", "ids": [0]}, "ids"),
        ({"action": "approve", "ids": ["x"]}, "ids"),
        ({"action": "approve", "ids": [2**64]}, "ids"),
        ({"action": "approve", "ids": "1,2"}, "ids"),
        ({"action": "approve"}, "ids"),
        ({"action": "pay", "ids": [1]}, "action"),
        ({"ids": [1]}, "action"),
        ({"action": "deny", "ids": [1]}, "reason"),
        ({"action": "deny", "ids": [1], "reason": " "}, "reason"),
        ({"action": "approve", "ids": [1], "note": "x" * 2001}, "note"),
    ],
)
def test_it_refuses_a_bad_body_with_400(client, body, field):
    RewardFactory()
    response = bulk(client, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"
    assert field in response.json()["detail"]
    assert Reward.objects.get().status == "pending"


def test_it_accepts_exactly_100_ids(client):
    rewards = RewardFactory.create_batch(100)
    response = bulk(client, {"action": "approve", "ids": [r.pk for r in rewards]})
    assert response.status_code == 200
    assert response.json()["count"] == 100


def test_it_refuses_unknown_ids_and_changes_nothing(client):
    reward = RewardFactory()
    response = bulk(client, {"action": "approve", "ids": [reward.pk, 424242]})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": {"424242": "no such reward"}}
    assert Reward.objects.get().status == "pending"
    assert not AuditEntry.objects.exists()


def test_it_changes_nothing_when_one_is_refused(client):
    pending = RewardFactory.create_batch(2)
    denied = RewardFactory(status="denied")
    ids = [pending[0].pk, denied.pk, pending[1].pk]
    response = bulk(client, {"action": "approve", "ids": ids})
    assert response.status_code == 409
    assert response.json() == {
        "error": "transition_not_allowed",
        "detail": {str(denied.pk): "already denied"},
    }
    assert list(Reward.objects.order_by("pk").values_list("status", flat=True)) == [
        "pending",
        "pending",
        "denied",
    ]
    assert not AuditEntry.objects.exists()


def test_it_lists_every_refused_id(client):
    a = RewardFactory(status="denied")
    b = RewardFactory(status="pending")
    response = bulk(client, {"action": "fulfil", "ids": [a.pk, b.pk]})
    assert response.status_code == 409
    assert response.json()["detail"] == {
        str(a.pk): "denied rewards cannot be fulfilled",
        str(b.pk): "approve it before fulfilling it",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"action": "approve", "ids": ["1"]},
        {"action": "approve", "ids": [1.0]},
        {"action": "approve", "ids": [True]},
        {"action": "approve", "ids": [1], "note": 25},
        {"action": "deny", "ids": [1], "reason": True},
        {"action": 1, "ids": [1]},
    ],
)
def test_it_takes_json_types_literally(client, body):
    RewardFactory()
    response = bulk(client, body)
    assert response.status_code == 400, response.content
    assert Reward.objects.get().status == "pending"
