"""The approval queue and the approve/deny actions, always through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from referralhub.models import AuditEntry, Reward
from tests.factories import LeadFactory, PromoterFactory, RewardFactory

ACT = "/dashboard/rewards/act/"
QUEUE = "/dashboard/rewards/approvals/"


@pytest.fixture
def pending(db) -> list[Reward]:
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    honest = LeadFactory(
        unlinked=True, promoter=promoter, email="honest@example.com", suspicion="no_suspicion"
    )
    sneaky = LeadFactory(
        unlinked=True, promoter=promoter, email="sneaky@example.com", suspicion="same_ip_suspicion"
    )
    return [
        RewardFactory(unlinked=True, promoter=promoter, lead=honest, amount=Decimal("15.00")),
        RewardFactory(
            unlinked=True, promoter=promoter, lead=sneaky, amount=3, unit="free_months", currency=""
        ),
    ]


def test_it_lists_pending_rewards_with_lead_and_promoter(as_alice: Client, pending) -> None:
    RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        status=Reward.Status.APPROVED,
        external_id="already",
    )
    response = as_alice.get(QUEUE)
    html = response.content.decode()
    assert [r.pk for r in response.context["page"].items] == [r.pk for r in pending]
    assert "Grace Hopper" in html
    assert "honest@example.com" in html
    assert "15.00 USD" in html
    assert "3 free months" in html
    assert 'class="suspect"' in html
    assert "Same IP" in html
    assert "already" not in html


def test_it_filters_self_referral_suspects(as_alice: Client, pending) -> None:
    response = as_alice.get(QUEUE, {"suspects": "on"})
    assert [r.pk for r in response.context["page"].items] == [pending[1].pk]


def test_it_shows_action_buttons_only_with_permission(
    as_alice: Client, client: Client, bob: User, pending
) -> None:
    assert b'value="approve"' in as_alice.get(QUEUE).content
    client.force_login(bob)
    html = client.get(QUEUE).content
    assert b'value="approve"' not in html
    assert b'name="ids"' not in html


def test_it_approves_one_reward_and_records_who_and_why(as_alice: Client, alice, pending) -> None:
    response = as_alice.post(
        ACT, {"row": f"approve:{pending[0].pk}", "next": QUEUE, "text": "ok"}, follow=True
    )
    assert response.redirect_chain[-1][0] == QUEUE
    reward = Reward.objects.get(pk=pending[0].pk)
    assert reward.status == "approved"
    assert reward.decided_by == alice
    assert "Approved 1 reward" in response.content.decode()
    entry = AuditEntry.objects.get(object_id=str(reward.pk))
    assert (entry.actor, entry.action, entry.note) == (alice, "approve", "ok")
    assert entry.changes["status"] == ["pending", "approved"]
    assert Reward.objects.get(pk=pending[1].pk).status == "pending"


def test_it_approves_many_at_once(as_alice: Client, pending) -> None:
    ids = [r.pk for r in pending]
    as_alice.post(ACT, {"action": "approve", "ids": ids})
    assert set(Reward.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"approved"}
    assert AuditEntry.objects.filter(action="approve").count() == 2


def test_it_asks_for_a_reason_to_deny(as_alice: Client, pending) -> None:
    response = as_alice.post(
        ACT, {"action": "deny", "ids": [pending[0].pk], "text": "  "}, follow=True
    )
    assert "A reason is required" in response.content.decode()
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"
    assert not AuditEntry.objects.exists()


def test_it_denies_with_the_reason(as_alice: Client, pending) -> None:
    ids = [r.pk for r in pending]
    response = as_alice.post(
        ACT, {"action": "deny", "ids": ids, "text": "self-referral"}, follow=True
    )
    assert "Denied 2 rewards" in response.content.decode()
    rewards = Reward.objects.filter(pk__in=ids)
    assert {(r.status, r.decision_reason) for r in rewards} == {("denied", "self-referral")}


def test_it_refuses_to_decide_twice_and_changes_nothing(as_alice: Client, pending) -> None:
    as_alice.post(ACT, {"row": f"approve:{pending[0].pk}"})
    response = as_alice.post(
        ACT, {"action": "deny", "ids": [r.pk for r in pending], "text": "no"}, follow=True
    )
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert "already approved" in html
    assert Reward.objects.get(pk=pending[0].pk).status == "approved"
    assert Reward.objects.get(pk=pending[1].pk).status == "pending"


def test_it_reports_unknown_rewards(as_alice: Client) -> None:
    response = as_alice.post(ACT, {"action": "approve", "ids": [999999]}, follow=True)
    assert "No reward with id 999999" in response.content.decode()


def test_it_says_when_nothing_is_selected(as_alice: Client, pending) -> None:
    response = as_alice.post(ACT, {"action": "approve"}, follow=True)
    assert "Select at least one reward" in response.content.decode()


def test_it_refuses_a_forged_post_without_permission(as_bob: Client, pending) -> None:
    response = as_bob.post(ACT, {"action": "approve", "ids": [pending[0].pk]})
    assert response.status_code == 403
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_refuses_approval_to_staff_who_may_only_fulfil(client, dave, pending) -> None:
    client.force_login(dave)
    response = client.post(ACT, {"action": "approve", "ids": [pending[0].pk]})
    assert response.status_code == 403
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_refuses_non_staff_and_anonymous_posts(client: Client, carol, pending) -> None:
    data = {"action": "approve", "ids": [pending[0].pk]}
    assert client.post(ACT, data).status_code == 302
    client.force_login(carol)
    assert client.post(ACT, data).status_code == 403
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_enforces_csrf(alice, pending) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(ACT, {"action": "approve", "ids": [pending[0].pk]})
    assert response.status_code == 403
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_accepts_the_csrf_token_from_the_page(alice, pending) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get(QUEUE)
    token = client.cookies["csrftoken"].value
    data = {"action": "approve", "ids": [pending[0].pk], "csrfmiddlewaretoken": token}
    assert client.post(ACT, data).status_code == 302
    assert Reward.objects.get(pk=pending[0].pk).status == "approved"


def test_it_only_accepts_post(as_alice: Client) -> None:
    assert as_alice.get(ACT).status_code == 405


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/",
        "//evil.example.com/",
        "ok",  # a bare word: redirect() would have taken it for a view name to reverse
        "emoji 🎉",
        "javascript:alert(1)",
    ],
)
def test_it_goes_back_only_to_a_path_on_this_site(as_alice: Client, pending, target) -> None:
    response = as_alice.post(ACT, {"row": f"approve:{pending[0].pk}", "next": target})
    assert response.status_code == 302
    assert response["Location"] == QUEUE


def test_it_goes_back_to_the_page_that_posted(as_alice: Client, pending) -> None:
    page = f"/dashboard/rewards/{pending[0].pk}/"
    response = as_alice.post(ACT, {"row": f"approve:{pending[0].pk}", "next": page})
    assert response["Location"] == page


def test_it_shows_the_audit_history_on_the_reward_page(as_alice: Client, pending) -> None:
    as_alice.post(ACT, {"action": "deny", "ids": [pending[1].pk], "text": "same IP as promoter"})
    html = as_alice.get(reverse("dashboard:reward", args=[pending[1].pk])).content.decode()
    assert "alice" in html
    assert "same IP as promoter" in html
    assert "deny" in html
    assert "No decision to take: this reward is already denied." in html  # no second one offered
    assert 'value="approve"' not in html


def test_the_history_lists_changes_in_the_rewards_field_order(as_alice: Client, pending) -> None:
    # Stored as jsonb on PostgreSQL, whose keys come back sorted by length.
    Reward.objects.filter(pk=pending[1].pk).update(unit="free_months", currency="")
    as_alice.post(ACT, {"action": "approve", "ids": [pending[1].pk], "text": "Checked"})
    entry = AuditEntry.objects.get(object_id=str(pending[1].pk))
    assert [field for field, *_ in entry.changes_shown] == [
        "status",
        "decided_at",
        "decided_by",
        "decision_reason",
        "fulfilment",
        "fulfilment_requested_at",
    ]


def test_the_reward_page_approves_with_a_note_and_links_to_the_deny_step(
    as_alice: Client, pending
) -> None:
    reward = pending[1]
    html = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert 'value="approve"' in html
    assert 'value="deny"' not in html  # one box served as the note and the reason
    assert "required" not in html
    assert f'href="/dashboard/rewards/deny/?ids={reward.pk}&amp;next=' in html
    assert "Possible self-referral" in html


def test_the_reward_page_warns_of_an_approved_reward_the_provider_refused(
    as_alice: Client, alice, pending
) -> None:
    # Staff approved it, then FirstPromoter deleted it (webhooks v2): the approval stands.
    Reward.objects.filter(pk=pending[0].pk).update(
        status="approved", decided_by=alice, decided_at=datetime.now(UTC), provider_status="deleted"
    )
    warned = as_alice.get(reverse("dashboard:reward", args=[pending[0].pk])).content.decode()
    assert "since it was approved here: check before paying it" in warned

    Reward.objects.filter(pk=pending[0].pk).update(provider_status="approved")
    fine = as_alice.get(reverse("dashboard:reward", args=[pending[0].pk])).content.decode()
    assert "check before paying it" not in fine


def test_it_answers_404_for_an_unknown_reward(as_alice: Client) -> None:
    assert as_alice.get(reverse("dashboard:reward", args=[424242])).status_code == 404


def test_it_rejects_malformed_input_without_a_500(as_alice: Client, pending) -> None:
    for data in (
        {"action": "approve", "ids": ["abc"]},
        {"action": "explode", "ids": [pending[0].pk]},
        {"row": "approve:x"},
        {"action": "approve", "ids": list(range(1, 103))},
        # Over 64 bits: SQLite cannot bind it, so the form must refuse it first.
        {"action": "approve", "ids": ["9223372036854775808"]},
        {"action": "approve", "ids": ["99999999999999999999"]},
        {"action": "approve", "ids": ["²"]},  # a digit to str.isdigit, not to int()
    ):
        response = as_alice.post(ACT, data, follow=True)
        assert response.status_code == 200
        assert 'class="message error"' in response.content.decode()
    assert Reward.objects.filter(status="pending").count() == 2


def test_the_reward_page_shows_the_sale_as_money(as_alice: Client, db) -> None:
    reward = RewardFactory(
        unlinked=True,
        conversion_amount=Decimal("1234.5"),
        sale_external_id="6000001",
    )
    html = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert "<dd>1,234.50 USD · sale 6000001</dd>" in html  # not the stored 1234.5000


def test_times_are_shown_in_the_staffs_time_zone(as_alice: Client, db, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    created = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    reward = RewardFactory(unlinked=True, provider_created_at=created)
    html = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert "<dt>Created</dt><dd>2026-12-01 00:30</dd>" in html
    assert "Times are in Europe/Berlin." in html


def test_the_history_shows_audited_times_in_the_staffs_time_zone(
    as_alice: Client, db, settings
) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    reward = RewardFactory(unlinked=True, lead=None)
    as_alice.post(ACT, {"row": f"approve:{reward.pk}"})
    decided = Reward.objects.get(pk=reward.pk).decided_at
    assert decided is not None
    html = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    shown = decided.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    assert f"<code>decided_at</code>: — → {shown}</div>" in html
    assert decided.isoformat() not in html  # not the stored UTC string
