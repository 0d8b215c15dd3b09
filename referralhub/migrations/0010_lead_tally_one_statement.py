"""Lead tallies, PostgreSQL: the trigger writes a lead's changes in one statement.

The trigger of migration 0006 called a SQL function once per contribution (up to four times for an
update), each call a statement of its own: half of the time a webhook spent upserting a lead went
there. Now the old contributions (-1) and the new ones (+1) are summed per hour and shard in one
upsert, and an hour whose changes cancel out is not written at all. The counts are the same
(tests/dashboard/test_tallies.py). SQLite's triggers (0006) are plain statements already.
"""

from django.db import migrations

SHARDS = 8  # referralhub.models.tallies.SHARDS when this migration was written

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION referralhub_lead_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- OLD is null for an INSERT and NEW for a DELETE: their rows drop out with `at IS NULL`.
    INSERT INTO referralhub_leadtally AS t (hour, shard, leads, customers)
    SELECT date_trunc('hour', c.at, 'UTC'), c.lead_id % {SHARDS}, SUM(c.leads), SUM(c.customers)
    FROM (VALUES
        (COALESCE(OLD.provider_created_at, OLD.created), OLD.id, -1, 0),
        (OLD.customer_since, OLD.id, 0, -1),
        (COALESCE(NEW.provider_created_at, NEW.created), NEW.id, 1, 0),
        (NEW.customer_since, NEW.id, 0, 1)
    ) AS c (at, lead_id, leads, customers)
    WHERE c.at IS NOT NULL
    GROUP BY 1, 2
    HAVING SUM(c.leads) <> 0 OR SUM(c.customers) <> 0
    ON CONFLICT (hour, shard) DO UPDATE
    SET leads = t.leads + EXCLUDED.leads, customers = t.customers + EXCLUDED.customers;
    RETURN NULL;
END
$$;

DROP FUNCTION referralhub_lead_tally_add(timestamptz, bigint, int, int);
"""

# Migration 0006's functions, as they were.
POSTGRES_BACKWARD = f"""
CREATE FUNCTION referralhub_lead_tally_add(at timestamptz, lead_id bigint, leads int, customers int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO referralhub_leadtally (hour, shard, leads, customers)
    VALUES (date_trunc('hour', at, 'UTC'), lead_id % {SHARDS}, leads, customers)
    ON CONFLICT (hour, shard) DO UPDATE
    SET leads = referralhub_leadtally.leads + EXCLUDED.leads,
        customers = referralhub_leadtally.customers + EXCLUDED.customers
$$;

CREATE OR REPLACE FUNCTION referralhub_lead_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM referralhub_lead_tally_add(COALESCE(OLD.provider_created_at, OLD.created), OLD.id, -1, 0);
        IF OLD.customer_since IS NOT NULL THEN
            PERFORM referralhub_lead_tally_add(OLD.customer_since, OLD.id, 0, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM referralhub_lead_tally_add(COALESCE(NEW.provider_created_at, NEW.created), NEW.id, 1, 0);
        IF NEW.customer_since IS NOT NULL THEN
            PERFORM referralhub_lead_tally_add(NEW.customer_since, NEW.id, 0, 1);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("referralhub", "0009_reward_provider_asks_fulfilment"),
    ]

    operations = [migrations.RunPython(forward, backward)]
