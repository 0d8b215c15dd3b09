from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webhooks.management.commands.replay_webhooks import _bounded
from webhooks.retention import DEFAULT_BATCH_SIZE, deliveries_prune


class Command(BaseCommand):
    help = (
        "Delete processed and ignored webhook deliveries older than WEBHOOK_RETENTION_DAYS "
        "(failed and rejected ones stay until resolved, then the same period). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=_bounded(1, 36600, "--days"),
            default=None,
            help="Retention in days (default: WEBHOOK_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--batch-size",
            type=_bounded(1, 100_000, "--batch-size"),
            default=DEFAULT_BATCH_SIZE,
            help=f"Deliveries per DELETE, each its own transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args: object, **options: object) -> None:
        days = options["days"] if options["days"] is not None else settings.WEBHOOK_RETENTION_DAYS
        assert isinstance(days, int)
        batch_size = options["batch_size"]
        assert isinstance(batch_size, int)
        result = deliveries_prune(
            days=days, batch_size=batch_size, dry_run=bool(options["dry_run"])
        )
        cutoff = result.cutoff.isoformat(timespec="seconds")
        if options["dry_run"]:
            self.stdout.write(f"Would delete {result.deleted} deliveries received before {cutoff}.")
        else:
            self.stdout.write(
                f"Deleted {result.deleted} deliveries received before {cutoff} "
                f"in {result.batches} batches."
            )
        self.stdout.write(f"Kept {result.kept_unresolved} failed, rejected or unfinished ones.")
