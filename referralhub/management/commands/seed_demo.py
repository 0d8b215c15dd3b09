"""`manage.py seed_demo --leads N`: realistic referral data at scale, for trying the staff pages
and for benchmarks (a million leads, 200k rewards and 20k promoters take a few minutes).

Rows are built in memory and written with `bulk_create` in batches, one transaction per batch, so
memory stays flat whatever N is. It refuses to run when leads already exist unless `--add` is
given; then it adds a new set beside the old one (external ids carry a per-run tag, so the
(provider, external_id) constraints never collide).
"""

from __future__ import annotations

import random
import secrets
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Provider, Reward
from referralhub.people import people_sync
from referralhub.seeding import Seeder, keep_timestamps, shares
from webhooks.models import WebhookEndpoint


class Command(BaseCommand):
    help = "Fill the database with realistic referral data (bulk inserts, with a progress bar)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=2000, help="Leads to create (2000).")
        parser.add_argument("--promoters", type=int, help="Promoters (default leads/50, min 20).")
        parser.add_argument("--rewards", type=int, help="Rewards (default leads/5).")
        parser.add_argument("--deliveries", type=int, help="Inbox rows (default leads/20).")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per INSERT.")
        parser.add_argument("--seed", type=int, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--add", action="store_true", help="Add to existing data instead of refusing."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **opts: Any) -> None:
        leads: int = opts["leads"]
        promoters = opts["promoters"] if opts["promoters"] is not None else max(20, leads // 50)
        rewards = opts["rewards"] if opts["rewards"] is not None else leads // 5
        deliveries = opts["deliveries"] if opts["deliveries"] is not None else leads // 20
        batch = opts["batch_size"]
        if min(leads, promoters, rewards, deliveries) < 0 or batch < 1 or promoters < 1:
            raise CommandError("Counts must be positive (and at least one promoter).")
        if not opts["add"] and Lead.objects.exists():
            raise CommandError(
                "The database already has leads: pass --add to add a new set beside them."
            )
        rng = random.Random(opts["seed"])
        tag = f"s{secrets.token_hex(2) if opts['seed'] is None else opts['seed']}-"
        if opts["add"]:
            tag = f"s{secrets.token_hex(3)}-"
        seeder = Seeder(rng, tag, batch, timezone.now())
        seeder.endpoints = {
            p: WebhookEndpoint.objects.filter(provider=p).first()
            or WebhookEndpoint.objects.create(provider=p, name=f"Demo {label}")
            for p, label in Provider.choices
        }
        progress = tqdm(
            total=promoters + leads,
            unit="row",
            unit_scale=True,
            file=sys.stderr,
            disable=opts["no_progress"] or None,
        )
        with keep_timestamps(Campaign, Promoter, Promotion, Lead, Conversion, Reward):
            campaigns = seeder.campaigns()
            for start in range(0, promoters, batch):
                size = min(batch, promoters - start)
                with transaction.atomic():
                    seeder.promoter_batch(size, campaigns)
                progress.update(size)
            sizes = [min(batch, leads - s) for s in range(0, leads, batch)]
            for size, n_rewards, n_deliveries in zip(
                sizes, shares(rewards, sizes), shares(deliveries, sizes), strict=True
            ):
                with transaction.atomic():
                    seeder.lead_batch(size, n_rewards, n_deliveries)
                progress.update(size)
        progress.close()
        people_sync()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {promoters} promoters, {leads} leads, {rewards} rewards and "
                f"{deliveries} deliveries (tag {tag!r})."
            )
        )
