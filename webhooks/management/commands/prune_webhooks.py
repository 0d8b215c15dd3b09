from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from referralhub.events.retention import events_prune
from webhooks.management.commands.replay_webhooks import _bounded
from webhooks.retention import DEFAULT_BATCH_SIZE, deliveries_prune


class Command(BaseCommand):
    help = (
        "Delete processed and ignored webhook deliveries older than WEBHOOK_RETENTION_DAYS "
        "(failed and rejected ones stay until resolved, then the same period), and events out "
        "delivered before EVENTS_RETENTION_DAYS with their attempts (failed ones stay until "
        "replayed to success). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=_bounded(1, 36600, "--days"),
            default=None,
            help="Retention in days of both (default: WEBHOOK_RETENTION_DAYS for the inbox, "
            "EVENTS_RETENTION_DAYS for events out).",
        )
        parser.add_argument(
            "--batch-size",
            type=_bounded(1, 100_000, "--batch-size"),
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per DELETE, each its own transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args: object, **options: object) -> None:
        days = options["days"]
        assert days is None or isinstance(days, int)
        batch_size = options["batch_size"]
        assert isinstance(batch_size, int)
        dry_run = bool(options["dry_run"])
        result = deliveries_prune(
            days=days if days is not None else settings.WEBHOOK_RETENTION_DAYS,
            batch_size=batch_size,
            dry_run=dry_run,
        )
        cutoff = result.cutoff.isoformat(timespec="seconds")
        if dry_run:
            self.stdout.write(f"Would delete {result.deleted} deliveries received before {cutoff}.")
        else:
            self.stdout.write(
                f"Deleted {result.deleted} deliveries received before {cutoff} "
                f"in {result.batches} batches."
            )
        self.stdout.write(f"Kept {result.kept_unresolved} failed, rejected or unfinished ones.")
        events = events_prune(days=days, batch_size=batch_size, dry_run=dry_run)
        cutoff = events.cutoff.isoformat(timespec="seconds")
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {events.deliveries} delivered events out (with their attempts) and "
            f"{events.events} events from before {cutoff}."
        )
        self.stdout.write(f"Kept {events.kept_unresolved} failed or pending events out.")
