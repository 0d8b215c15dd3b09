"""The silence check's index: each endpoint's latest delivery, read from one index entry.

Built CONCURRENTLY on PostgreSQL, hence a migration outside a transaction: a plain CREATE INDEX
would hold up every incoming webhook for as long as it takes to read the whole inbox.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """`AddIndexConcurrently` on PostgreSQL, a plain `AddIndex` on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("webhooks", "0007_endpoint_expected_every"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["endpoint", "-received_at"], name="delivery_endpoint_received"
            ),
        ),
    ]
