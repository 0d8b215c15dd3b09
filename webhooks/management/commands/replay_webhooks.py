import argparse
from collections.abc import Callable
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from referralhub.models import MAX_ID
from webhooks import inbox
from webhooks.models import WebhookDelivery

MAX_MINUTES = 100 * 366 * 24 * 60  # a century: further back than any delivery, within datetime


def _bounded(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from low to high, else a usage error naming `what`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}")
        return value

    return parse


class Command(BaseCommand):
    help = (
        "Process stored webhook deliveries again. A processed delivery is never applied twice: "
        "only received, failed, rejected and ignored ones are processed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="Every failed delivery.")
        parser.add_argument(
            "--rejected",
            action="store_true",
            help="Every rejected delivery (refused as malformed), e.g. once the hub reads a kind "
            "of delivery it refused before. One still malformed is rejected again.",
        )
        parser.add_argument(
            "--ignored",
            action="store_true",
            help="Every ignored delivery (of an event type the hub did not handle then), e.g. "
            "once it handles it. One still not handled stays ignored.",
        )
        parser.add_argument(
            "--unfinished",
            type=_bounded(0, MAX_MINUTES, "MINUTES"),
            metavar="MINUTES",
            help="Deliveries still `received` after MINUTES: stored, but their processing never "
            "completed (e.g. the database went away mid-way) and the provider gave up.",
        )
        parser.add_argument(
            "--id",
            type=_bounded(1, MAX_ID, "an id"),
            nargs="+",
            default=[],
            dest="ids",
            metavar="N",
        )

    def handle(
        self,
        *args: object,
        failed: bool,
        rejected: bool,
        ignored: bool,
        unfinished: int | None,
        ids: list[int],
        **options: object,
    ) -> None:
        if not (failed or rejected or ignored or ids) and unfinished is None:
            raise CommandError(
                "Say which deliveries to replay: --failed, --rejected, --ignored, "
                "--unfinished MINUTES and/or --id N ..."
            )
        deliveries = WebhookDelivery.objects.none()
        if ids:
            deliveries |= WebhookDelivery.objects.filter(pk__in=ids)
            if missing := set(ids) - set(deliveries.values_list("pk", flat=True)):
                raise CommandError(f"No delivery with id {', '.join(map(str, sorted(missing)))}.")
        Status = WebhookDelivery.Status
        for wanted, status in (
            (failed, Status.FAILED),
            (rejected, Status.REJECTED),
            (ignored, Status.IGNORED),
        ):
            if wanted:
                deliveries |= WebhookDelivery.objects.filter(status=status)
        if unfinished is not None:
            # Recent ones may be in a transaction right now: leave them to their request.
            deliveries |= WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.RECEIVED,
                received_at__lt=timezone.now() - timedelta(minutes=unfinished),
            )
        counts: dict[str, int] = {}
        for delivery in deliveries.order_by("received_at", "pk").iterator():
            answer = inbox.replay(delivery)
            delivery.refresh_from_db(fields=["status"])
            counts[delivery.status] = counts.get(delivery.status, 0) + 1
            self.stdout.write(
                f"#{delivery.pk} {delivery.event_type or '?'}: {delivery.status} "
                f"(HTTP {answer.status_code})"
            )
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"Replayed {sum(counts.values())}: {summary}."))
