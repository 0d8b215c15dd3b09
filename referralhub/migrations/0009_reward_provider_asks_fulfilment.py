"""Reward.provider_asks_fulfilment, set for the FirstPromoter rewards that came by its legacy
webhooks (the ones that send `fulfilment_pending`).

Existing rows carry no flag saying which protocol brought them, so it is read from what they hold:
a v2 commission names its `referral` or `promoter_campaign` (legacy rewards name a `lead` and a
`promotion`), and one queued by the hub's v2 rule was never asked. From this migration on, every
delivery sets the flag itself.
"""

from django.db import migrations, models
from django.db.models import Q

FIRSTPROMOTER = "firstpromoter"  # referralhub.models.Provider.FIRSTPROMOTER


def flag_legacy_firstpromoter(apps, schema_editor):
    Reward = apps.get_model("referralhub", "Reward")
    v2 = (
        Q(payload__has_key="referral")
        | Q(payload__has_key="promoter_campaign")
        | Q(fulfilment_requested_at__isnull=False, fulfilment_request_count=0)
    )
    Reward.objects.filter(provider=FIRSTPROMOTER).exclude(v2).update(provider_asks_fulfilment=True)
    # A legacy reward that was asked is legacy whatever its payload holds.
    Reward.objects.filter(provider=FIRSTPROMOTER, fulfilment_request_count__gt=0).update(
        provider_asks_fulfilment=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("referralhub", "0008_api_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="reward",
            name="provider_asks_fulfilment",
            field=models.BooleanField(
                default=False,
                help_text="FirstPromoter's legacy webhooks ask (fulfilment_pending) and read the "
                "answer; its webhooks v2 and Referral Rocket are not told of a fulfilment.",
            ),
        ),
        migrations.RunPython(flag_legacy_firstpromoter, migrations.RunPython.noop),
    ]
