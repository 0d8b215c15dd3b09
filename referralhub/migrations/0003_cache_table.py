from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    # The database cache backend's table (settings.CACHES); idempotent.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("referralhub", "0002_lead_indexes")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
