"""PostgreSQL: the webhook path's statements are prepared once on each connection and reused by
every later delivery there (referralhub.rawsql), and no other statement is: a staff page's query
planned once for the values it first ran with can go badly wrong for others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from referralhub.models import Lead
from referralhub.rawsql import prepared
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Transactional, so that each test can start on a connection of its own (closing the one a test
# transaction wraps would break its rollback).
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares"),
    pytest.mark.django_db(transaction=True),
]

Post = Callable[..., Any]
Event = Callable[..., dict[str, Any]]


def prepared_runs() -> tuple[int, int]:
    """(statements prepared on this connection, plans run from them so far)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0)"
            " FROM pg_prepared_statements"
        )
        count, runs = cursor.fetchone()
    return count, runs


def test_a_delivery_prepares_its_statements_once_and_later_ones_reuse_them(
    fp_endpoint: WebhookEndpoint, post_json: Post, fp_event: Event
) -> None:
    connection.close()
    assert prepared_runs() == (0, 0)
    assert post_json(fp_endpoint, fp_event("lead_signup")).status_code == 200
    statements, runs = prepared_runs()
    assert statements >= 3  # at least the endpoint lookup, the inbox insert and the lead upsert

    for n in range(1, 4):
        event = fp_event("lead_signup", event_id=900 + n, at=f"2023-08-21T0{n}:00:00.000Z")
        assert post_json(fp_endpoint, event).status_code == 200

    again, runs_after = prepared_runs()
    assert again == statements  # none prepared anew
    assert runs_after >= runs + 3 * 3  # each later delivery ran the prepared ones
    assert WebhookDelivery.objects.filter(status="processed").count() == 4
    lead = Lead.objects.get(external_id="91020")
    assert (lead.email, lead.state) == ("new.lead@example.com", "signup")


def test_a_new_connection_prepares_them_again(
    fp_endpoint: WebhookEndpoint, post_json: Post, fp_event: Event
) -> None:
    assert post_json(fp_endpoint, fp_event("lead_signup")).status_code == 200
    statements, _ = prepared_runs()
    connection.close()

    assert prepared_runs() == (0, 0)
    event = fp_event("lead_signup", event_id=901, at="2023-08-21T01:00:00.000Z")
    assert post_json(fp_endpoint, event).status_code == 200
    assert prepared_runs()[0] == statements


def test_a_query_run_again_and_again_is_not_prepared_unless_marked() -> None:
    Lead.objects.create(provider="firstpromoter", external_id="1", email="ada@example.com")
    before, _ = prepared_runs()
    for _ in range(10):
        assert [lead.email for lead in Lead.objects.filter(email="ada@example.com")] == [
            "ada@example.com"
        ]
    assert prepared_runs()[0] == before

    marked = prepared("SELECT count(*) FROM referralhub_lead WHERE email = %s")
    counts = []
    for email in ("ada@example.com", "bob@example.com"):
        with connection.cursor() as cursor:
            cursor.execute(marked, [email])
            counts.append(cursor.fetchone()[0])

    assert counts == [1, 0]
    assert prepared_runs() == (before + 1, 2)
