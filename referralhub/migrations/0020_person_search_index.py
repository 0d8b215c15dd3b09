"""Search, PostgreSQL: the trigram index for people's address keys (referralhub.search).

As 0011 does for the other searched tables: built CONCURRENTLY, outside a transaction, so that
nothing waits while it is built, then the table is analysed so the planner has statistics on the
indexed expression. SQLite scans.
"""

from django.db import migrations

NAME, TABLE, COLUMN = "person_search", "referralhub_person", "key"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    # A build that failed half-way leaves an invalid index, which IF NOT EXISTS would keep.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid"
            " WHERE relname = %s AND NOT indisvalid",
            [NAME],
        )
        if cursor.fetchone():
            schema_editor.execute(f'DROP INDEX CONCURRENTLY "{NAME}"', params=None)
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "{TABLE}"'
        f' USING gin (UPPER("{COLUMN}") gin_trgm_ops)',
        params=None,
    )
    schema_editor.execute(f'ANALYZE "{TABLE}"', params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"', params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("referralhub", "0019_drop_lead_tallies"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
