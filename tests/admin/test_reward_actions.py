"""Approve, deny and fulfil from the reward changelist: through the services, audited, permitted."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import localtime, now

from referralhub.models import AuditEntry, Promoter, Reward
from referralhub.services import MAX_BULK
from tests.admin.conftest import admin_url
from tests.conftest import make_staff

CHANGELIST = admin_url("referralhub", "reward")


@pytest.fixture
def promoter(db) -> Promoter:
    return Promoter.objects.create(provider="firstpromoter", external_id="1", email="p@example.com")


def _reward(promoter: Promoter, n: int, **fields) -> Reward:
    return Reward.objects.create(
        provider="firstpromoter",
        external_id=str(n),
        promoter=promoter,
        amount=Decimal("15"),
        unit="cash",
        currency="USD",
        **{"provider_asks_fulfilment": True, **fields},
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _act(client: Client, action: str, *rewards: Reward, **extra: str):
    """What the changelist's action bar posts (then, for deny/fulfil, the confirmation page)."""
    data = {"action": action, "_selected_action": [r.pk for r in rewards], **extra}
    if "post" not in extra:
        data["index"] = "0"
    return client.post(CHANGELIST, data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _actions(client: Client) -> set[str]:
    response = client.get(CHANGELIST)
    return {name for name, _ in response.context["action_form"].fields["action"].choices} - {""}


def test_it_approves_through_the_service_and_audits_it(alice: User, promoter: Promoter):
    reward = _reward(promoter, 1)
    response = _act(_client(alice), "approve_selected", reward)
    assert response.status_code == 200
    assert _messages(response) == ["Approved 1 reward (FirstPromoter 1)."]
    reward.refresh_from_db()
    assert (reward.status, reward.decided_by) == ("approved", alice)
    entry = AuditEntry.objects.get(object_id=str(reward.pk), action="approve")
    assert entry.actor == alice
    assert entry.changes["status"] == ["pending", "approved"]
    log = LogEntry.objects.get(object_id=str(reward.pk))
    assert log.user == alice
    history = _client(alice).get(admin_url("referralhub", "reward", f"{reward.pk}/history"))
    assert "Approve (status: pending → approved" in history.content.decode()


def test_it_asks_for_a_reason_before_denying(alice: User, promoter: Promoter):
    rewards = [_reward(promoter, 1), _reward(promoter, 2)]
    client = _client(alice)
    page = _act(client, "deny_selected", *rewards)
    assert page.templates[0].name == "admin/referralhub/reward/action_text.html"
    assert "Reason (required" in page.content.decode()
    assert Reward.objects.filter(status="pending").count() == 2

    blank = _act(client, "deny_selected", *rewards, post="yes", text="  ")
    assert "This field is required." in blank.content.decode()
    assert Reward.objects.filter(status="pending").count() == 2

    done = _act(client, "deny_selected", *rewards, post="yes", text="Self-referral")
    assert _messages(done) == [
        "Denied 2 rewards (FirstPromoter 1, FirstPromoter 2) — “Self-referral”."
    ]
    assert set(Reward.objects.values_list("status", "decision_reason")) == {
        ("denied", "Self-referral")
    }
    assert AuditEntry.objects.filter(action="deny", note="Self-referral").count() == 2
    assert LogEntry.objects.filter(change_message__contains="Self-referral").count() == 2
    # The admin's History reads as the dashboard's trail: local time to the second, "—" for none.
    decided = localtime(Reward.objects.get(pk=rewards[0].pk).decided_at)
    assert LogEntry.objects.filter(object_id=str(rewards[0].pk)).get().change_message == (
        "Deny (status: pending → denied, "
        f"decided_at: — → {decided:%Y-%m-%d %H:%M:%S}, decided_by: — → {alice}, "
        "decision_reason: — → Self-referral): Self-referral"
    )


def test_it_marks_fulfilled_with_an_optional_note(alice: User, promoter: Promoter):
    reward = _reward(promoter, 1, status="approved", fulfilment="pending")
    client = _client(alice)
    assert _act(client, "fulfil_selected", reward).status_code == 200
    done = _act(client, "fulfil_selected", reward, post="yes", text="Sent the voucher")
    assert _messages(done) == ["Marked 1 reward fulfilled (FirstPromoter 1) — “Sent the voucher”."]
    reward.refresh_from_db()
    assert (reward.fulfilment, reward.fulfilled_by, reward.fulfilment_note) == (
        "fulfilled",
        alice,
        "Sent the voucher",
    )
    page = client.get(admin_url("referralhub", "reward", f"{reward.pk}/change")).content.decode()
    assert "Sent the voucher" in page  # the audit trail on the reward's own page
    assert "fulfilment: pending → fulfilled" in page


def test_the_audit_trail_reads_in_the_staffs_time_zone(alice: User, promoter: Promoter, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    reward = _reward(promoter, 1)
    client = _client(alice)
    _act(client, "approve_selected", reward, post="yes")
    reward.refresh_from_db()
    page = client.get(admin_url("referralhub", "reward", f"{reward.pk}/change")).content.decode()
    assert reward.decided_at is not None
    tokyo = reward.decided_at.astimezone(ZoneInfo("Asia/Tokyo"))
    entry = AuditEntry.objects.get(object_id=str(reward.pk))
    when = entry.created.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    assert f"<td>{when}</td>" in page
    assert f"decided_at: — → {tokyo:%Y-%m-%d %H:%M:%S}" in page
    assert "When (UTC)" not in page


def test_it_reports_refusals_and_changes_nothing(alice: User, promoter: Promoter):
    pending = _reward(promoter, 1)
    decided = _reward(promoter, 2, status="denied")
    response = _act(_client(alice), "approve_selected", pending, decided)
    assert response.status_code == 200
    assert _messages(response) == ["Nothing was changed. reward 2: already denied."]
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not AuditEntry.objects.exists()


def test_it_refuses_to_fulfil_a_pending_reward(alice: User, promoter: Promoter):
    reward = _reward(promoter, 1)
    response = _act(_client(alice), "fulfil_selected", reward, post="yes", text="")
    assert "reward 1: approve it before fulfilling it" in _messages(response)[0]
    reward.refresh_from_db()
    assert reward.fulfilment == "not_requested"


def test_it_refuses_batches_over_the_limit(alice: User, promoter: Promoter):
    rewards = [_reward(promoter, n) for n in range(MAX_BULK + 1)]
    response = _act(_client(alice), "approve_selected", *rewards)
    assert _messages(response) == [f"Select at most {MAX_BULK} rewards at a time."]
    assert not Reward.objects.exclude(status="pending").exists()


def test_it_shows_only_the_actions_a_user_may_take(db, alice: User, bob: User):
    approver = make_staff("erin", "referralhub.view_reward", "referralhub.approve_reward")
    fulfiller = make_staff("frank", "referralhub.view_reward", "referralhub.fulfil_reward")
    decisions = {"approve_selected", "deny_selected", "reopen_selected"}
    assert _actions(_client(alice)) == {*decisions, "fulfil_selected"}
    assert _actions(_client(approver)) == decisions
    assert _actions(_client(fulfiller)) == {"fulfil_selected"}
    assert _client(bob).get(CHANGELIST).context["action_form"] is None  # no action bar


@pytest.mark.parametrize(
    ("action", "extra"),
    [
        ("approve_selected", {}),
        ("deny_selected", {"post": "yes", "text": "forged"}),
        ("fulfil_selected", {"post": "yes", "text": "forged"}),
        ("reopen_selected", {"post": "yes", "text": "forged"}),
    ],
)
def test_it_refuses_a_forged_action_post(bob: User, promoter: Promoter, action: str, extra):
    decided = action in ("fulfil_selected", "reopen_selected")
    reward = _reward(promoter, 1, status="approved" if decided else "pending")
    response = _act(_client(bob), action, reward, **extra)
    assert response.status_code == 200  # back on the list with a message, never a 500
    reward.refresh_from_db()
    assert reward.decided_by is None
    assert reward.fulfilment == "not_requested"
    assert not AuditEntry.objects.exists()


def test_it_refuses_an_approver_forging_a_fulfilment(db, promoter: Promoter):
    approver = make_staff("erin", "referralhub.view_reward", "referralhub.approve_reward")
    reward = _reward(promoter, 1, status="approved")
    _act(_client(approver), "fulfil_selected", reward, post="yes", text="forged")
    reward.refresh_from_db()
    assert reward.fulfilment == "not_requested"


def _buttons(client: Client, reward: Reward) -> list[str]:
    page = client.get(admin_url("referralhub", "reward", f"{reward.pk}/change"))
    return [name for name, _ in page.context["reward_actions"]]


def test_it_offers_on_the_reward_page_only_what_is_allowed_now(
    alice: User, bob: User, promoter: Promoter
):
    pending = _reward(promoter, 1)
    approved = _reward(promoter, 2, status="approved")
    fulfilled = _reward(promoter, 3, status="approved", fulfilment="fulfilled", fulfilled_at=now())
    assert _buttons(_client(alice), pending) == ["approve_selected", "deny_selected"]
    assert _buttons(_client(alice), approved) == ["fulfil_selected", "reopen_selected"]
    assert _buttons(_client(alice), fulfilled) == []
    assert _buttons(_client(bob), pending) == []
    assert (
        'name="_from_change"'
        not in _client(bob)
        .get(admin_url("referralhub", "reward", f"{pending.pk}/change"))
        .content.decode()
    )


def test_it_returns_to_the_reward_page_after_acting_from_it(alice: User, promoter: Promoter):
    reward = _reward(promoter, 1)
    client = _client(alice)
    page = admin_url("referralhub", "reward", f"{reward.pk}/change")
    form = {"action": "deny_selected", "_selected_action": reward.pk, "_from_change": "1"}
    ask = client.post(CHANGELIST, {**form, "index": "0"})
    assert 'name="_from_change" value="1"' in ask.content.decode()
    done = client.post(CHANGELIST, {**form, "post": "yes", "text": "Duplicate"})
    assert done.status_code == 302
    assert done["Location"] == page
    reward.refresh_from_db()
    assert (reward.status, reward.decision_reason) == ("denied", "Duplicate")
    assert "Duplicate" in client.get(page).content.decode()
