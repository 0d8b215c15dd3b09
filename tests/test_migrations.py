"""Data migrations, run forward from the migration before them on rows written the old way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's tally triggers are 0006's")
@pytest.mark.django_db(transaction=True)
def test_the_lead_tally_trigger_counts_the_same_before_and_after_0010() -> None:
    before, after = [("referralhub", "0009_reward_provider_asks_fulfilment")], TALLY_ONE_STATEMENT
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    lead(1, signed_up="2026-11-03 12:15+00", customer_since="2026-11-04 09:00+00")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    lead(2, signed_up="2026-11-03 12:45+00")
    _sql("UPDATE referralhub_lead SET customer_since = '2026-11-05 10:00+00' WHERE id = 1")
    _sql("UPDATE referralhub_lead SET provider_created_at = '2026-11-04 08:00+00' WHERE id = 2")
    counts_after = tallies()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(before)  # and back: 0006's trigger counts on
    _sql("DELETE FROM referralhub_lead WHERE id = 2")
    counts_back = tallies()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    assert counts_after == {
        "2026-11-03 12:00": (1, 0),
        "2026-11-04 08:00": (1, 0),
        "2026-11-05 10:00": (0, 1),
    }
    assert counts_back == {"2026-11-03 12:00": (1, 0), "2026-11-05 10:00": (0, 1)}


TALLY_ONE_STATEMENT = [("referralhub", "0010_lead_tally_one_statement")]


def lead(pk: int, signed_up: str, customer_since: str | None = None) -> None:
    _sql(
        "INSERT INTO referralhub_lead (id, provider, external_id, payload, created, updated, "
        "state, email, name, uid, plan_name, suspicion, username, website, "
        "split_promotion_external_id, visitor_sub_id, referred_by_code, provider_created_at, "
        "customer_since) VALUES (%s, 'firstpromoter', %s, '{}', now(), now(), '', '', '', '', "
        "'', '', '', '', '', '', '', %s, %s)",
        [pk, str(pk), signed_up, customer_since],
    )


def tallies() -> dict[str, tuple[int, int]]:
    """{hour (UTC): (leads, customers)}, hours that count nothing left out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), SUM(leads), "
            "SUM(customers) FROM referralhub_leadtally GROUP BY hour "
            "HAVING SUM(leads) <> 0 OR SUM(customers) <> 0"
        )
        return {hour: (leads, customers) for hour, leads, customers in cursor.fetchall()}


def _sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_promoters_mirrored_before_people_their_person_key() -> None:
    before, after = [("referralhub", "0012_event_subscriptions")], [("referralhub", "0013_people")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    Promoter = executor.loader.project_state(before).apps.get_model("referralhub", "Promoter")
    Promoter.objects.create(provider="firstpromoter", external_id="1", email=" Ada@Example.com")
    Promoter.objects.create(provider="firstpromoter", external_id="2", email="")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    Promoter = executor.loader.project_state(after).apps.get_model("referralhub", "Promoter")
    keys = dict(Promoter.objects.values_list("external_id", "person_key"))

    assert keys == {"1": "ada@example.com", "2": ""}
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_it_drops_the_lead_tallies_and_brings_them_back_recounted() -> None:
    with_tallies, without = [("referralhub", "0018_event_sending")], DROP_TALLIES
    executor = MigrationExecutor(connection)
    executor.migrate(with_tallies)
    Lead = executor.loader.project_state(with_tallies).apps.get_model("referralhub", "Lead")
    noon = datetime(2026, 11, 3, 12, 15, tzinfo=UTC)
    Lead.objects.create(provider="firstpromoter", external_id="1", provider_created_at=noon)
    assert _tally_table_exists()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(without)
    assert not _tally_table_exists()
    Lead = executor.loader.project_state(without).apps.get_model("referralhub", "Lead")
    # A lead write no longer reaches for the table: it would fail if a trigger were left.
    second = Lead.objects.create(
        provider="firstpromoter", external_id="2", provider_created_at=noon
    )
    second.customer_since = noon + timedelta(days=1)
    second.save()
    Lead.objects.filter(external_id="1").delete()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(with_tallies)  # and back: recounted, and the triggers count on
    recounted = _tally_sums()
    Lead = executor.loader.project_state(with_tallies).apps.get_model("referralhub", "Lead")
    Lead.objects.create(provider="firstpromoter", external_id="3", provider_created_at=noon)
    counted_on = _tally_sums()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    assert recounted == (1, 1)
    assert counted_on == (2, 1)


DROP_TALLIES = [("referralhub", "0019_drop_lead_tallies")]


def _tally_table_exists() -> bool:
    with connection.cursor() as cursor:
        return "referralhub_leadtally" in connection.introspection.table_names(cursor)


def _tally_sums() -> tuple[int, int]:
    """(leads, customers) over every hour of the tallies."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(leads), SUM(customers) FROM referralhub_leadtally")
        leads, customers = cursor.fetchone()
        return leads, customers
