"""Drop the lead tallies: their triggers, their functions and their table.

No page has read them since the overview counts signup cohorts per provider and campaign from
covering indexes (docs/decisions/lead-tallies.md), yet every lead write still paid for them.
Going back restores the state of migration 0010 (triggers and functions of 0006, 0007 and 0010)
and recounts the table from the leads, as 0006 did.
"""

from importlib import import_module

from django.db import migrations, models

POSTGRES_FORWARD = """
DROP TRIGGER IF EXISTS referralhub_lead_tally_update ON referralhub_lead;
DROP TRIGGER IF EXISTS referralhub_lead_tally_insert_delete ON referralhub_lead;
DROP TRIGGER IF EXISTS referralhub_lead_tally_truncate ON referralhub_lead;
DROP FUNCTION IF EXISTS referralhub_lead_tally();
DROP FUNCTION IF EXISTS referralhub_lead_tally_truncate();
DROP FUNCTION IF EXISTS referralhub_lead_tally_add(timestamptz, bigint, int, int);
"""

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_insert",
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_delete",
    "DROP TRIGGER IF EXISTS referralhub_lead_tally_update",
]

# The migrations whose triggers this one drops, replayed in order to go back.
RESTORED_BY = ["0006_lead_tally", "0007_lead_tally_truncate", "0010_lead_tally_one_statement"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    for name in RESTORED_BY:
        import_module(f"referralhub.migrations.{name}").forward(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("referralhub", "0018_event_sending"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="LeadTally"),
    ]
