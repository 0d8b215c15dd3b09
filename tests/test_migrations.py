"""Data migrations, run forward from the migration before them on rows written the old way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("referralhub", "0008_api_token")]
AFTER = [("referralhub", "0009_reward_provider_asks_fulfilment")]


@pytest.mark.django_db(transaction=True)
def test_it_flags_the_rewards_legacy_firstpromoter_webhooks_brought() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Reward = executor.loader.project_state(BEFORE).apps.get_model("referralhub", "Reward")

    def reward(external_id: str, provider: str = "firstpromoter", **values) -> None:
        Reward.objects.create(provider=provider, external_id=external_id, **values)

    reward("legacy", payload={"id": 1, "promoter": {"id": 5}, "lead": {"id": 6}})
    reward("asked", payload={"id": 2, "referral": {"id": 6}}, fulfilment_request_count=2)
    reward("v2", payload={"id": 3, "referral": {"id": 6}})
    reward("v2-link", payload={"id": 4, "promoter_campaign": {"id": 7}})
    reward(
        "v2-queued",
        payload={"id": 5},
        fulfilment="pending",
        fulfilment_requested_at="2026-11-20T10:00:00Z",
    )
    reward("rocket", provider="referralrocket", payload={"id": "rwd_1"})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    Reward = executor.loader.project_state(AFTER).apps.get_model("referralhub", "Reward")
    flags = dict(Reward.objects.values_list("external_id", "provider_asks_fulfilment"))

    assert flags == {
        "legacy": True,
        "asked": True,
        "v2": False,
        "v2-link": False,
        "v2-queued": False,
        "rocket": False,
    }
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
