"""Lead tallies (referralhub.models.tallies): the table, the triggers that keep it, its backfill.

The triggers are written per backend (PostgreSQL in production, SQLite embedded); both add a
lead's old contribution with -1 and its new one with +1, in one upsert per affected hour, and only
run when one of the three columns they read changes.
"""

from django.db import migrations, models

SHARDS = 8  # referralhub.models.tallies.SHARDS when this migration was written

POSTGRES_FORWARD = f"""
CREATE FUNCTION referralhub_lead_tally_add(at timestamptz, lead_id bigint, leads int, customers int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO referralhub_leadtally (hour, shard, leads, customers)
    VALUES (date_trunc('hour', at, 'UTC'), lead_id % {SHARDS}, leads, customers)
    ON CONFLICT (hour, shard) DO UPDATE
    SET leads = referralhub_leadtally.leads + EXCLUDED.leads,
        customers = referralhub_leadtally.customers + EXCLUDED.customers
$$;

CREATE FUNCTION referralhub_lead_tally() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER referralhub_lead_tally_insert_delete AFTER INSERT OR DELETE ON referralhub_lead
FOR EACH ROW EXECUTE FUNCTION referralhub_lead_tally();

-- Webhook upserts rewrite every lead they touch: the WHEN clause keeps unchanged dates free.
CREATE TRIGGER referralhub_lead_tally_update AFTER UPDATE ON referralhub_lead
FOR EACH ROW WHEN (
    OLD.provider_created_at IS DISTINCT FROM NEW.provider_created_at
    OR OLD.created IS DISTINCT FROM NEW.created
    OR OLD.customer_since IS DISTINCT FROM NEW.customer_since
) EXECUTE FUNCTION referralhub_lead_tally();

INSERT INTO referralhub_leadtally (hour, shard, leads, customers)
SELECT hour, shard, SUM(leads), SUM(customers) FROM (
    SELECT date_trunc('hour', COALESCE(provider_created_at, created), 'UTC') AS hour,
           id % {SHARDS} AS shard, 1 AS leads, 0 AS customers
    FROM referralhub_lead
    UNION ALL
    SELECT date_trunc('hour', customer_since, 'UTC'), id % {SHARDS}, 0, 1
    FROM referralhub_lead WHERE customer_since IS NOT NULL
) AS contributions GROUP BY hour, shard;
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS referralhub_lead_tally_update ON referralhub_lead;
DROP TRIGGER IF EXISTS referralhub_lead_tally_insert_delete ON referralhub_lead;
DROP FUNCTION IF EXISTS referralhub_lead_tally();
DROP FUNCTION IF EXISTS referralhub_lead_tally_add(timestamptz, bigint, int, int);
"""

# SQLite stores datetimes as UTC text ('2026-12-01 07:38:19.123456'): the hour is its first 13
# characters. Each trigger body is a list of upserts; `WHERE true` is SQLite's documented way to
# write an upsert whose rows come from a SELECT.
_SQLITE_ADD = (
    "INSERT INTO referralhub_leadtally (hour, shard, leads, customers) "
    "SELECT substr({at}, 1, 13) || ':00:00', {row}.id % " + str(SHARDS) + ", {leads}, {customers} "
    "WHERE {condition} "
    "ON CONFLICT (hour, shard) DO UPDATE SET leads = leads + excluded.leads, "
    "customers = customers + excluded.customers;"
)


def _sqlite_changes(row: str, sign: int) -> str:
    signed_up = f"COALESCE({row}.provider_created_at, {row}.created)"
    return " ".join(
        [
            _SQLITE_ADD.format(at=signed_up, row=row, leads=sign, customers=0, condition="true"),
            _SQLITE_ADD.format(
                at=f"{row}.customer_since",
                row=row,
                leads=0,
                customers=sign,
                condition=f"{row}.customer_since IS NOT NULL",
            ),
        ]
    )


SQLITE_FORWARD = [
    "CREATE TRIGGER referralhub_lead_tally_insert AFTER INSERT ON referralhub_lead "
    f"BEGIN {_sqlite_changes('NEW', 1)} END",
    "CREATE TRIGGER referralhub_lead_tally_delete AFTER DELETE ON referralhub_lead "
    f"BEGIN {_sqlite_changes('OLD', -1)} END",
    "CREATE TRIGGER referralhub_lead_tally_update AFTER UPDATE ON referralhub_lead "
    "WHEN OLD.provider_created_at IS NOT NEW.provider_created_at OR OLD.created IS NOT NEW.created "
    "OR OLD.customer_since IS NOT NEW.customer_since "
    f"BEGIN {_sqlite_changes('OLD', -1)} {_sqlite_changes('NEW', 1)} END",
    "INSERT INTO referralhub_leadtally (hour, shard, leads, customers) "
    "SELECT hour, shard, SUM(leads), SUM(customers) FROM ("
    "SELECT substr(COALESCE(provider_created_at, created), 1, 13) || ':00:00' AS hour, "
    f"id % {SHARDS} AS shard, 1 AS leads, 0 AS customers FROM referralhub_lead "
    "UNION ALL SELECT substr(customer_since, 1, 13) || ':00:00', "
    f"id % {SHARDS}, 0, 1 FROM referralhub_lead WHERE customer_since IS NOT NULL"
    ") GROUP BY hour, shard",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_insert",
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_delete",
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_update",
]


def forward(apps, schema_editor):
    _run(schema_editor, POSTGRES_FORWARD, SQLITE_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, POSTGRES_BACKWARD, SQLITE_BACKWARD)


def _run(schema_editor, postgres: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"lead tallies have no triggers for {vendor}")


class Migration(migrations.Migration):
    dependencies = [
        ("referralhub", "0005_overview_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("shard", models.PositiveSmallIntegerField()),
                ("leads", models.IntegerField(default=0)),
                ("customers", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("hour", "shard"), name="uniq_lead_tally_hour_shard"
                    )
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
