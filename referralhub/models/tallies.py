"""Running counts of leads and customers per hour, kept by the database itself.

No page reads them any more: the overview counts signup cohorts per provider and campaign, which
hourly totals cannot give (docs/decisions/lead-tallies.md). What follows is why they were kept.

The overview shows leads and customers per day over two periods: counting them from the lead table
reads every lead of up to 180 days (a million index entries at scale, a second per recount).
These rows hold the same numbers, maintained by triggers on `referralhub_lead` (migration
0006_lead_tally) inside the very transaction that inserts, updates or deletes a lead, so they are
exact, roll back with it, and need no job to refresh them; a `TRUNCATE` of the leads empties them
(0007_lead_tally_truncate).

- A lead counts in the hour of its signup (the provider's date, else when the hub first heard of
  it) and, once it is a customer, as a customer in the hour of `customer_since`: the definitions of
  `dashboard.stats`.
- Hours are truncated in UTC, so any time zone with a whole-hour offset groups them into its days;
  in one whose days start mid-hour (+5:30) the overview counted the leads instead.
- Each hour is split over `SHARDS` rows (by lead id): concurrent deliveries adding leads in the
  same hour update different rows most of the time instead of queueing on one row lock.

On SQLite, a migration that alters the lead table rebuilds it, and the rebuild drops its triggers:
such a migration must create them again (tests/dashboard/test_tallies.py fails if they are gone).
"""

from __future__ import annotations

from django.db import models

SHARDS = 8


class LeadTally(models.Model):
    hour = models.DateTimeField()
    shard = models.PositiveSmallIntegerField()
    leads = models.IntegerField(default=0)
    customers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "shard"], name="uniq_lead_tally_hour_shard")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 #{self.shard}: {self.leads} leads, {self.customers}"
