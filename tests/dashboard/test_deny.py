"""Denying, a step of its own: the rewards and a required reason on their own page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from referralhub.models import AuditEntry, Reward
from referralhub.services import MAX_BULK
from tests.factories import LeadFactory, PromoterFactory, RewardFactory

DENY = "/dashboard/rewards/deny/"
QUEUE = "/dashboard/rewards/approvals/"


@pytest.fixture
def pending(db) -> list[Reward]:
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    sneaky = LeadFactory(
        unlinked=True, promoter=promoter, email="sneaky@example.com", suspicion="same_ip_suspicion"
    )
    return [
        RewardFactory(
            unlinked=True,
            promoter=promoter,
            lead=LeadFactory(unlinked=True, promoter=promoter, email="honest@example.com"),
            amount=15,
        ),
        RewardFactory(
            unlinked=True, promoter=promoter, lead=sneaky, amount=3, unit="free_months", currency=""
        ),
    ]


def test_a_reward_s_deny_link_shows_it_and_asks_why(as_alice: Client, pending) -> None:
    reward = pending[1]
    response = as_alice.get(DENY, {"ids": reward.pk, "next": f"/dashboard/rewards/{reward.pk}/"})

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>Deny reward #{reward.pk}" in html
    assert "3 free months" in html
    assert "Grace Hopper" in html
    assert "sneaky@example.com" in html
    assert "Same IP" in html
    assert '<textarea id="deny-reason" name="reason"' in html
    assert "required" in html
    assert "field-error" not in html  # nothing is wrong yet
    assert f'href="/dashboard/rewards/{reward.pk}/">Cancel' in html
    assert Reward.objects.get(pk=reward.pk).status == "pending"


def test_the_list_s_deny_selected_shows_the_selection_with_its_total(
    as_alice: Client, pending
) -> None:
    third = RewardFactory(unlinked=True, promoter=PromoterFactory(), amount=5)
    ids = [pending[0].pk, third.pk]

    response = as_alice.post(DENY, {"ids": ids, "next": QUEUE, "text": "an approval note"})

    html = response.content.decode()
    assert "<h1>Deny 2 rewards" in html
    assert "20.00 USD" in html  # 15 + 5
    assert html.count('<input type="hidden" name="ids"') == 2
    assert Reward.objects.filter(status="pending").count() == 3


def test_it_denies_with_the_reason_and_goes_back(as_alice: Client, alice, pending) -> None:
    ids = [r.pk for r in pending]
    data = {"ids": ids, "next": QUEUE, "confirm": "1", "reason": " same IP as promoter "}

    response = as_alice.post(DENY, data)

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    assert set(Reward.objects.values_list("status", "decision_reason")) == {
        ("denied", "same IP as promoter")
    }
    assert AuditEntry.objects.filter(actor=alice, action="deny").count() == 2
    message = as_alice.get(QUEUE).content.decode()
    assert "Denied 2 rewards" in message


def test_it_asks_again_without_a_reason_and_changes_nothing(as_alice: Client, pending) -> None:
    data = {"ids": [pending[0].pk], "next": QUEUE, "confirm": "1", "reason": "   "}

    response = as_alice.post(DENY, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Say why: the reason is kept in the reward" in html
    assert 'aria-invalid="true"' in html
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_says_when_a_reward_cannot_be_denied(as_alice: Client, pending) -> None:
    Reward.objects.filter(pk=pending[0].pk).update(status="approved")
    data = {"ids": [r.pk for r in pending], "confirm": "1", "reason": "no"}

    html = as_alice.post(DENY, data, follow=True).content.decode()

    assert "Nothing was changed" in html
    assert "Cannot be denied: it is already approved" in html
    assert Reward.objects.get(pk=pending[1].pk).status == "pending"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Select at least one reward to deny."),
        ({"ids": "abc"}, "Select a valid choice."),
        ({"ids": list(range(1, MAX_BULK + 2))}, f"Select at most {MAX_BULK} rewards at once."),
    ],
)
def test_it_goes_back_with_a_message_when_the_selection_is_wrong(
    as_alice: Client, db, query, message
) -> None:
    response = as_alice.get(f"{DENY}?{urlencode(query, doseq=True)}", follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert message in response.content.decode()


def test_it_names_rewards_that_do_not_exist(as_alice: Client, pending) -> None:
    html = as_alice.get(DENY, {"ids": [pending[0].pk, 999999]}).content.decode()
    assert "No reward #999999" in html


def test_it_refuses_staff_who_may_not_deny(as_bob: Client, pending) -> None:
    response = as_bob.post(DENY, {"ids": [pending[0].pk], "confirm": "1", "reason": "x"})
    assert response.status_code == 403
    assert as_bob.get(DENY, {"ids": [pending[0].pk]}).status_code == 403
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_it_refuses_anonymous_visitors(client: Client, pending) -> None:
    response = client.post(DENY, {"ids": [pending[0].pk], "confirm": "1", "reason": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_a_confirmation_sent_by_get_denies_nothing(as_alice: Client, pending) -> None:
    as_alice.get(DENY, {"ids": [pending[0].pk], "confirm": "1", "reason": "x"})
    assert Reward.objects.get(pk=pending[0].pk).status == "pending"


def test_the_deny_page_runs_the_same_queries_for_2_or_30_rewards(as_alice: Client, db) -> None:
    def count(rewards: int) -> int:
        # Suspects and not, pending and already decided (a reason it cannot be denied): all
        # that the page shows of each.
        ids = [
            RewardFactory(
                lead__suspicion="same_ip_suspicion" if i % 2 else "",
                status="approved" if i % 3 == 0 else "pending",
            ).pk
            for i in range(rewards)
        ]
        with CaptureQueriesContext(connection) as captured:
            response = as_alice.get(DENY, {"ids": ids})
        assert response.status_code == 200
        assert len(response.context["rewards"]) == rewards
        return len(captured)

    assert count(30) == count(2)
