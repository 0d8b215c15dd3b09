"""The fulfilment queue, marking rewards fulfilled, and the provider's round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referralhub.models import AuditEntry, Reward
from tests.factories import PromoterFactory, RewardFactory
from webhooks import samples

ACT = "/dashboard/rewards/act/"
QUEUE = "/dashboard/rewards/fulfilments/"


@pytest.fixture
def waiting(db) -> list[Reward]:
    now = timezone.now()
    promoter = PromoterFactory(first_name="Barbara", last_name="Liskov")

    def queued(hours: int, count: int, **values) -> Reward:
        return RewardFactory(
            unlinked=True,
            promoter=promoter,
            amount=3,
            unit="free_months",
            currency="",
            fulfilment=Reward.Fulfilment.PENDING,
            fulfilment_requested_at=now - timedelta(hours=hours),
            fulfilment_last_requested_at=now,
            fulfilment_request_count=count,
            **values,
        )

    return [
        queued(5, 4, status=Reward.Status.APPROVED),
        queued(48, 1, status=Reward.Status.APPROVED),
        queued(1, 2, status=Reward.Status.PENDING),
    ]


def test_it_lists_the_queue_oldest_first_with_times_asked(as_alice: Client, waiting) -> None:
    RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        fulfilment=Reward.Fulfilment.FULFILLED,
        fulfilled_at=timezone.now(),
    )
    response = as_alice.get(QUEUE)
    assert [r.pk for r in response.context["page"].items] == [
        waiting[1].pk,
        waiting[0].pk,
        waiting[2].pk,
    ]
    html = response.content.decode()
    assert "4\N{MULTIPLICATION SIGN}" in html
    assert "3 free months" in html
    assert "Barbara Liskov" in html
    # The unapproved one cannot be ticked; its link names the reward for screen readers.
    unapproved = next(r for r in waiting if r.status != "approved")
    assert f'Decide<span class="sr-only"> on reward #{unapproved.pk}</span> first…' in html


def test_it_leaves_out_a_denied_reward_the_provider_asked_for(as_alice: Client, waiting) -> None:
    denied = RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        status=Reward.Status.DENIED,
        fulfilment=Reward.Fulfilment.PENDING,
        fulfilment_requested_at=timezone.now(),
        fulfilment_last_requested_at=timezone.now(),
        fulfilment_request_count=2,
    )
    listed = [r.pk for r in as_alice.get(QUEUE).context["page"].items]
    assert denied.pk not in listed  # nothing to do: it will not be fulfilled
    assert len(listed) == 3
    assert as_alice.get("/dashboard/").context["fulfilment_queue"] == 3
    page = as_alice.get(reverse("dashboard:reward", args=[denied.pk])).content.decode()
    assert "It is told the reward is denied and will not be fulfilled" in page


def test_it_marks_many_fulfilled_with_a_note(as_alice: Client, alice, waiting) -> None:
    ids = [waiting[0].pk, waiting[1].pk]
    response = as_alice.post(
        ACT, {"action": "fulfil", "ids": ids, "text": "credited", "next": QUEUE}, follow=True
    )
    html = response.content.decode()
    assert f"Marked 2 rewards fulfilled (#{ids[0]}, #{ids[1]}) — “credited”." in html
    assert "The provider&#x27;s next fulfilment request will be answered 200." in html
    for reward in Reward.objects.filter(pk__in=ids):
        assert reward.fulfilment == "fulfilled"
        assert (reward.fulfilled_by, reward.fulfilment_note) == (alice, "credited")
    assert AuditEntry.objects.filter(action="fulfil", note="credited").count() == 2
    assert [r.pk for r in response.context["page"].items] == [waiting[2].pk]


def test_it_refuses_to_fulfil_an_undecided_reward(as_alice: Client, waiting) -> None:
    response = as_alice.post(ACT, {"row": f"fulfil:{waiting[2].pk}"}, follow=True)
    assert "approve it before fulfilling it" in response.content.decode()
    assert Reward.objects.get(pk=waiting[2].pk).fulfilment == "pending"


def test_it_refuses_to_fulfil_twice(as_alice: Client, waiting) -> None:
    as_alice.post(ACT, {"row": f"fulfil:{waiting[0].pk}"})
    response = as_alice.post(ACT, {"row": f"fulfil:{waiting[0].pk}"}, follow=True)
    assert "already fulfilled" in response.content.decode()
    assert AuditEntry.objects.filter(action="fulfil").count() == 1


def test_it_refuses_fulfilment_without_permission(as_bob: Client, waiting) -> None:
    assert b'value="fulfil"' not in as_bob.get(QUEUE).content
    response = as_bob.post(ACT, {"action": "fulfil", "ids": [waiting[0].pk]})
    assert response.status_code == 403
    assert Reward.objects.get(pk=waiting[0].pk).fulfilment == "pending"


def test_it_lets_a_fulfiller_fulfil_but_not_approve(client: Client, dave, waiting) -> None:
    client.force_login(dave)
    assert b'value="fulfil"' in client.get(QUEUE).content
    assert b'value="approve"' not in client.get("/dashboard/rewards/approvals/").content
    client.post(ACT, {"row": f"fulfil:{waiting[0].pk}"})
    assert Reward.objects.get(pk=waiting[0].pk).fulfilment == "fulfilled"


def test_it_completes_the_firstpromoter_round_trip(
    as_alice: Client, alice, fp_endpoint, post_json, payload
) -> None:
    seed = payload("firstpromoter_fulfilment_pending_seed.json")
    first = post_json(fp_endpoint, seed)
    assert first.status_code == 202
    reward = Reward.objects.get(provider="firstpromoter", external_id="2429153")
    assert reward.fulfilment == "pending"
    assert reward.status == "approved"
    assert reward.pk in [r.pk for r in as_alice.get(QUEUE).context["page"].items]

    response = as_alice.post(ACT, {"row": f"fulfil:{reward.pk}", "text": "3 months added"})
    assert response.status_code == 302

    again = post_json(fp_endpoint, seed)
    assert again.status_code == 200
    assert again.json()["status"] == "fulfilled"
    reward.refresh_from_db()
    assert (reward.fulfilment, reward.fulfilled_by, reward.fulfilment_note) == (
        "fulfilled",
        alice,
        "3 months added",
    )
    history = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert "3 months added" in history
    assert "fulfil" in history


def test_an_approved_non_monetary_v2_commission_is_queued_and_fulfilled_by_hand_there(
    as_alice: Client, fp_endpoint
) -> None:
    # v2 has no fulfilment_pending: the approval on FirstPromoter is what makes it due.
    at = timezone.now()
    data = samples.fp2_commission(1, 3, 7, at, status="pending", unit="free_months")
    as_alice.post(
        fp_endpoint.path, samples.fp2_event("commission.created", at, data), "application/json"
    )
    assert list(as_alice.get(QUEUE).context["page"].items) == []  # not approved yet

    data["status"] = "approved"
    later = at + timedelta(minutes=5)
    as_alice.post(
        fp_endpoint.path, samples.fp2_event("commission.updated", later, data), "application/json"
    )

    reward = Reward.objects.get()
    page = as_alice.get(QUEUE)
    assert list(page.context["page"].items) == [reward]
    assert "never asks: mark it fulfilled in FirstPromoter too" in page.content.decode()
    assert (reward.fulfilment, reward.fulfilment_request_count) == ("pending", 0)
    done = as_alice.post(
        ACT, {"action": "fulfil", "row": f"fulfil:{reward.pk}", "next": QUEUE}, follow=True
    )
    html = done.content.decode()
    assert f"FirstPromoter is not told: mark #{reward.pk} fulfilled in FirstPromoter too" in html
    assert "next fulfilment request will be answered 200" not in html
    reward.refresh_from_db()
    assert reward.fulfilment == Reward.Fulfilment.FULFILLED
    detail = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert "make sure it is fulfilled in FirstPromoter too" in detail
