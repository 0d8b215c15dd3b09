"""PostgreSQL: the webhook path's statements are prepared on each connection (parsed and planned
once, referralhub.rawsql), and no other statement is: a staff page's query planned once for the
values it first ran with can go badly wrong for others."""

from __future__ import annotations

import pytest
from django.db import connection

from referralhub.models import Lead
from referralhub.rawsql import prepared
from webhooks import inbox

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"
)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_the_statements_a_delivery_runs_are_prepared(fp_endpoint, post_json, fp_event) -> None:
    assert post_json(fp_endpoint, fp_event("lead_signup")).status_code == 200

    statements = prepared_statements()

    assert any(s.startswith('INSERT INTO "webhooks_webhookdelivery"') for s in statements)
    assert any(s.startswith(inbox.CLAIM.split("%")[0]) for s in statements)
    assert any(s.startswith('INSERT INTO "referralhub_lead"') for s in statements)


def test_a_query_run_again_and_again_is_not_prepared_unless_marked(db) -> None:
    for _ in range(10):
        list(Lead.objects.filter(email="ada@example.com"))
    marked = prepared("SELECT count(*) FROM referralhub_lead WHERE state = %s")
    with connection.cursor() as cursor:
        cursor.execute(marked, ["active"])

    statements = prepared_statements()

    assert not any("ada@example.com" in s or '"email" = $1' in s for s in statements)
    assert "SELECT count(*) FROM referralhub_lead WHERE state = $1" in statements
