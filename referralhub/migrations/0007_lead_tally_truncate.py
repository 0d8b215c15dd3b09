"""Lead tallies follow a `TRUNCATE referralhub_lead` too (PostgreSQL; SQLite has no TRUNCATE, and its
`DELETE` fires the row triggers of migration 0006).

Row triggers don't fire on TRUNCATE, so without this statement-level trigger a table emptied that
way (`TRUNCATE … CASCADE` to reset data, say) would leave the overview counting leads that are gone.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION referralhub_lead_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM referralhub_leadtally;
    RETURN NULL;
END
$$;

CREATE TRIGGER referralhub_lead_tally_truncate AFTER TRUNCATE ON referralhub_lead
FOR EACH STATEMENT EXECUTE FUNCTION referralhub_lead_tally_truncate();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS referralhub_lead_tally_truncate ON referralhub_lead;
DROP FUNCTION IF EXISTS referralhub_lead_tally_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("referralhub", "0006_lead_tally"),
    ]

    operations = [migrations.RunPython(forward, backward)]
