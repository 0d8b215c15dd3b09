"""Search, PostgreSQL: trigram indexes for substring matches in any case (referralhub.search).

Django writes `icontains` as `UPPER(column::text) LIKE UPPER('%word%')`, which a trigram GIN index
on `UPPER(column)` serves; one index per table holds all its searched columns (GIN indexes many
columns, each usable alone). Built CONCURRENTLY, so that webhooks keep writing leads while it is
built, hence a migration outside a transaction; then each table is analysed, as the planner needs
statistics on the indexed expressions to tell a rare word from a common one. SQLite scans: its
tables are small.
"""

from django.db import migrations

# The columns of referralhub.search.SEARCHES when this migration was written
# (tests/test_search.py checks that each searched column has one).
INDEXES = {
    "lead_search": (
        "referralhub_lead",
        ("email", "name", "username", "uid", "external_id", "referred_by_code"),
    ),
    "promoter_search": (
        "referralhub_promoter",
        (
            "email",
            "first_name",
            "last_name",
            "company_name",
            "paypal_email",
            "default_ref_id",
            "code",
            "external_id",
        ),
    ),
    "promotion_search": (
        "referralhub_promotion",
        ("ref_id", "promo_code", "customer_promo_code"),
    ),
    "reward_search": ("referralhub_reward", ("external_id", "sale_external_id")),
    "conversion_search": ("referralhub_conversion", ("order_id", "external_id")),
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for name, (table, columns) in INDEXES.items():
        # A build that failed half-way leaves an invalid index, which IF NOT EXISTS would keep.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid"
                " WHERE relname = %s AND NOT indisvalid",
                [name],
            )
            if cursor.fetchone():
                schema_editor.execute(f'DROP INDEX CONCURRENTLY "{name}"', params=None)
        expressions = ", ".join(f'UPPER("{column}") gin_trgm_ops' for column in columns)
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin ({expressions})',
            params=None,
        )
        # Statistics on the indexed expressions: without them the planner guesses that a rare
        # word is common, and reads the whole table newest first looking for it.
        schema_editor.execute(f'ANALYZE "{table}"', params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        # The extension stays: something else may use it.
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"', params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("referralhub", "0010_lead_tally_one_statement"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
