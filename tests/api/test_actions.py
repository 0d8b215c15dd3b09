"""Approve, deny, fulfil, one by one and in bulk: the change, its audit trail, every refusal."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from referralhub.models import AuditEntry, Reward
from tests.conftest import make_staff
from tests.factories import RewardFactory


@pytest.fixture
def client(api, alice):
    return api(alice)


def post(client, url: str, body: dict | None = None):
    return client.post(url, body or {}, format="json")


def test_it_approves_a_pending_reward_and_records_who(client, alice):
    reward = RewardFactory()
    response = post(client, f"/api/v1/rewards/{reward.pk}/approve/", {"note": "looks fine"})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "alice"
    reward.refresh_from_db()
    assert reward.status == "approved"
    assert reward.decided_by == alice
    assert reward.decided_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_id) == (alice, "approve", str(reward.pk))
    assert entry.changes["status"] == ["pending", "approved"]
    assert entry.note == "looks fine"
    assert LogEntry.objects.filter(user=alice, object_id=str(reward.pk)).exists()


def test_it_approves_with_no_body_at_all(client):
    reward = RewardFactory()
    assert client.post(f"/api/v1/rewards/{reward.pk}/approve/").status_code == 200
    assert Reward.objects.get().status == "approved"


def test_approving_a_non_monetary_reward_queues_it_and_says_who_is_not_told(client):
    reward = RewardFactory(unit="points", currency="", provider_asks_fulfilment=False)

    approved = post(client, f"/api/v1/rewards/{reward.pk}/approve/").json()

    assert (approved["fulfilment"], approved["mark_fulfilled_at_provider"]) == ("pending", True)
    assert approved["fulfilment_requested_at"] == approved["decided_at"]
    assert [
        r["id"] for r in client.get("/api/v1/rewards/?fulfilment=pending").json()["results"]
    ] == [reward.pk]


def test_it_denies_with_a_reason(client, alice):
    reward = RewardFactory()
    response = post(client, f"/api/v1/rewards/{reward.pk}/deny/", {"reason": "self-referral"})
    assert response.status_code == 200
    reward.refresh_from_db()
    assert (reward.status, reward.decision_reason) == ("denied", "self-referral")
    assert AuditEntry.objects.get().action == "deny"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "a\x00b"}])
def test_it_refuses_to_deny_without_a_reason(client, body):
    reward = RewardFactory()
    response = post(client, f"/api/v1/rewards/{reward.pk}/deny/", body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "reason" in response.json()["detail"]
    assert Reward.objects.get().status == "pending"
    assert not AuditEntry.objects.exists()


def test_it_fulfils_an_approved_reward_with_a_note(client, alice):
    reward = RewardFactory(status="approved", fulfilment="pending")
    response = post(client, f"/api/v1/rewards/{reward.pk}/fulfil/", {"note": "sent a voucher"})
    assert response.status_code == 200
    reward.refresh_from_db()
    assert reward.fulfilment == "fulfilled"
    assert (reward.fulfilled_by, reward.fulfilment_note) == (alice, "sent a voucher")
    assert reward.fulfilled_at is not None
    assert AuditEntry.objects.get().action == "fulfil"


@pytest.mark.parametrize(
    ("status", "fulfilment", "action", "reason"),
    [
        ("denied", "not_requested", "approve", "already denied"),
        ("approved", "not_requested", "approve", "already approved"),
        ("approved", "not_requested", "deny", "already approved"),
        ("denied", "not_requested", "deny", "already denied"),
        ("denied", "pending", "fulfil", "denied rewards cannot be fulfilled"),
        ("pending", "pending", "fulfil", "approve it before fulfilling it"),
        ("approved", "fulfilled", "fulfil", "already fulfilled"),
    ],
)
def test_it_refuses_a_transition_that_is_not_allowed_with_409(
    client, status, fulfilment, action, reason
):
    extra = {"fulfilled_at": "2026-01-01T00:00:00Z"} if fulfilment == "fulfilled" else {}
    reward = RewardFactory(status=status, fulfilment=fulfilment, **extra)
    response = post(client, f"/api/v1/rewards/{reward.pk}/{action}/", {"reason": "x"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "transition_not_allowed",
        "detail": {str(reward.pk): reason},
    }
    after = Reward.objects.get()
    assert (after.status, after.fulfilment) == (status, fulfilment)
    assert not AuditEntry.objects.exists()


def test_it_refuses_deciding_twice(client):
    reward = RewardFactory()
    assert post(client, f"/api/v1/rewards/{reward.pk}/approve/").status_code == 200
    assert post(client, f"/api/v1/rewards/{reward.pk}/approve/").status_code == 409
    deny = post(client, f"/api/v1/rewards/{reward.pk}/deny/", {"reason": "changed my mind"})
    assert deny.status_code == 409
    assert Reward.objects.get().status == "approved"
    assert AuditEntry.objects.count() == 1


def test_it_answers_404_for_an_unknown_reward(client):
    for action in ("approve", "deny", "fulfil"):
        response = post(client, f"/api/v1/rewards/424242/{action}/", {"reason": "x"})
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": {"424242": "no such reward"}}


def test_it_refuses_anonymous_callers_with_401(db, anon):
    reward = RewardFactory()
    for action in ("approve", "deny", "fulfil"):
        response = anon.post(f"/api/v1/rewards/{reward.pk}/{action}/", {"reason": "x"})
        assert response.status_code == 401
    assert anon.post("/api/v1/rewards/bulk/", {}).status_code == 401
    assert Reward.objects.get().status == "pending"


def test_it_refuses_staff_without_the_permission_with_403(api, bob):
    reward = RewardFactory(status="pending")
    client = api(bob)  # may view, may not act
    for action in ("approve", "deny", "fulfil"):
        # 403 before the body is even read: no 400 for the missing reason.
        response = post(client, f"/api/v1/rewards/{reward.pk}/{action}/")
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"
    response = post(client, "/api/v1/rewards/bulk/", {"action": "approve", "ids": [reward.pk]})
    assert response.status_code == 403
    assert Reward.objects.get().status == "pending"


def test_it_separates_approving_from_fulfilling(db, api):
    approver = make_staff("ann", "referralhub.approve_reward")
    fulfiller = make_staff("fred", "referralhub.fulfil_reward")
    pending = RewardFactory()
    approved = RewardFactory(status="approved")
    assert post(api(fulfiller), f"/api/v1/rewards/{pending.pk}/approve/").status_code == 403
    assert post(api(approver), f"/api/v1/rewards/{approved.pk}/fulfil/").status_code == 403
    bulk = {"action": "fulfil", "ids": [approved.pk]}
    assert post(api(approver), "/api/v1/rewards/bulk/", bulk).status_code == 403
    assert post(api(fulfiller), "/api/v1/rewards/bulk/", bulk).status_code == 200
    assert post(api(approver), f"/api/v1/rewards/{pending.pk}/approve/").status_code == 200


def test_it_refuses_non_staff_even_with_the_permission(db, api):
    outsider = make_staff("ivan", "referralhub.approve_reward")
    outsider.is_staff = False
    outsider.save()
    reward = RewardFactory()
    assert post(api(outsider), f"/api/v1/rewards/{reward.pk}/approve/").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        "null",
        '{"note": ' * 5000 + "1" + "}" * 5000,  # deeper than Python's parser goes
        "[" * 100_000,
    ],
    ids=["not json", "a list", "null", "nested objects", "nested lists"],
)
def test_it_refuses_a_body_that_is_not_an_object(client, body):
    reward = RewardFactory()
    for url in (f"/api/v1/rewards/{reward.pk}/deny/", "/api/v1/rewards/bulk/"):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content)
        assert response.json()["error"] in ("invalid", "parse_error")


@pytest.mark.parametrize("body", [{"note": 2.5e16}, {"note": None}, {"note": ["a"]}])
def test_it_refuses_a_note_that_is_not_a_string(client, body):
    reward = RewardFactory()
    response = post(client, f"/api/v1/rewards/{reward.pk}/approve/", body)
    assert response.status_code == 400
    assert "note" in response.json()["detail"]
    assert Reward.objects.get().status == "pending"
