"""One rule says which rewards join the fulfilment queue (`Reward.joins_fulfilment_queue`): a
staff approval and FirstPromoter's webhooks v2 and import all follow it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from referralhub import services
from referralhub.models import Reward
from tests.factories import RewardFactory
from webhooks.providers.firstpromoter.decisions import sync_decisions_and_queue_v2


@pytest.mark.parametrize(
    ("status", "fulfilment", "unit", "joins"),
    [
        ("approved", "not_requested", "points", True),
        ("approved", "not_requested", "free_months", True),
        ("approved", "not_requested", "cash", False),  # paid from the payout export
        ("approved", "not_requested", "", False),  # the provider did not say what it is
        ("approved", "pending", "points", False),  # queued already
        ("approved", "fulfilled", "points", False),
        ("pending", "not_requested", "points", False),
        ("denied", "not_requested", "points", False),
    ],
)
def test_the_rule(status: str, fulfilment: str, unit: str, joins: bool) -> None:
    reward = Reward(status=status, fulfilment=fulfilment, unit=unit)
    assert reward.joins_fulfilment_queue is joins


@pytest.mark.django_db
@pytest.mark.parametrize(("unit", "queued"), [("points", True), ("cash", False)])
def test_a_staff_approval_queues_what_the_rule_takes(unit: str, queued: bool) -> None:
    reward = RewardFactory(unlinked=True, unit=unit, provider_asks_fulfilment=False)
    staff = User.objects.create_superuser("sam")

    services.reward_approve(reward=reward, actor=staff)

    reward.refresh_from_db()
    assert reward.status == "approved"
    assert reward.fulfilment == ("pending" if queued else "not_requested")
    assert (reward.fulfilment_requested_at == reward.decided_at) is queued


@pytest.mark.django_db
def test_an_import_page_queues_what_its_decisions_approve_and_nothing_else() -> None:
    approved_points = RewardFactory(unlinked=True, unit="points", provider_status="approved")
    approved_cash = RewardFactory(unlinked=True, unit="cash", provider_status="approved")
    still_pending = RewardFactory(unlinked=True, unit="points", provider_status="pending")
    refused = RewardFactory(unlinked=True, unit="points", provider_status="denied")
    rewards = [approved_points, approved_cash, still_pending, refused]

    sync_decisions_and_queue_v2([r.pk for r in rewards])

    found = {r.pk: r for r in Reward.objects.filter(pk__in=[r.pk for r in rewards])}
    assert [(found[r.pk].status, found[r.pk].fulfilment) for r in rewards] == [
        ("approved", "pending"),
        ("approved", "not_requested"),
        ("pending", "not_requested"),
        ("denied", "not_requested"),
    ]
    assert found[approved_points.pk].fulfilment_requested_at is not None
