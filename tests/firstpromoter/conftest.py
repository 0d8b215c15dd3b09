"""FirstPromoter's API, run locally (tests/firstpromoter_api.py), and an endpoint that calls it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from referralhub.models import Reward
from tests.api.conftest import api  # noqa: F401 (fixtures shared with those tests)
from tests.dashboard.conftest import as_alice, as_bob  # noqa: F401
from tests.firstpromoter_api import FakeFirstPromoter
from webhooks.models import CommissionPush, WebhookEndpoint

_ids = itertools.count(5000)


@pytest.fixture
def fp_api(settings) -> Iterator[FakeFirstPromoter]:
    fake = FakeFirstPromoter()
    with fake.running():
        settings.FIRSTPROMOTER_API_URL = fake.url
        yield fake


@pytest.fixture
def api_endpoint(db, fp_api: FakeFirstPromoter) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        provider="firstpromoter", api_key=fp_api.api_key, api_account_id=fp_api.account_id
    )


def make_commission(fake: FakeFirstPromoter | None = None, **values: Any) -> Reward:
    """A FirstPromoter commission as webhooks v2 mirror it, and the same one at the fake API."""
    external_id = next(_ids)
    if fake is not None:
        fake.add_commission(external_id, unit=values.get("unit", "cash"))
    defaults = {"amount": 10, "unit": "cash", "currency": "USD", "provider_status": "pending"}
    return Reward.objects.create(
        provider="firstpromoter", external_id=str(external_id), **(defaults | values)
    )


@pytest.fixture
def commission(fp_api: FakeFirstPromoter) -> Callable[..., Reward]:
    return lambda **values: make_commission(fp_api, **values)


@pytest.fixture
def time_passes() -> Callable[[timedelta], None]:
    """Moves what waits for a time (pushes and the tasks that wake for them) that far ahead."""

    def forward(delta: timedelta) -> None:
        for push in CommissionPush.objects.all():
            push.next_attempt_at -= delta
            push.since -= delta
            push.save(update_fields=["next_attempt_at", "since"])
        for result in DBTaskResult.objects.filter(run_after__isnull=False):
            result.run_after -= delta
            result.save(update_fields=["run_after"])

    return forward


def pushes(reward: Reward) -> list[tuple[str, str]]:
    return list(
        CommissionPush.objects.filter(reward=reward).order_by("pk").values_list("action", "state")
    )


def now_plus(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)
