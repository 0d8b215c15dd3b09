import argparse
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webhooks.models import ImportRun, WebhookEndpoint
from webhooks.providers.firstpromoter import pull
from webhooks.providers.firstpromoter.api import FirstPromoterApi, RateLimited, Refused, Transient

RETRIES = 8  # errors in a row before the command stops (run it again to resume)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Import a provider account's history through its API (FirstPromoter only: the others "
        "have no API that lists their objects). Mirrors promoters, promoter campaigns, referrals "
        "and commissions as webhooks do, newer wins, never over a staff decision. An interrupted "
        "run resumes where it stopped when started again with the same options."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=["firstpromoter"])
        parser.add_argument("--endpoint", type=int, help="The endpoint (account), if several.")
        parser.add_argument(
            "--since", type=_day, help="Referrals and commissions created from this date."
        )
        parser.add_argument(
            "--resource",
            action="append",
            choices=pull.RESOURCES,
            help="Only this kind (repeat for several); all four by default.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: object, **options: Any) -> None:
        endpoint = self._endpoint(options["endpoint"])
        resources: tuple[str, ...] = tuple(options["resource"] or pull.RESOURCES)
        run = pull.import_start(endpoint=endpoint, resources=resources, since=options["since"])
        if run.page > 1 or run.resource != run.resources[0]:
            self.stdout.write(f"Resuming import #{run.pk} at {run.resource}, page {run.page}.")
        api = FirstPromoterApi(endpoint, max_wait=120.0)
        try:
            self._run(run, api, not options["no_progress"])
        finally:
            api.close()
        summary = ", ".join(f"{count} {name}" for name, count in run.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Imported {summary} (import #{run.pk})."))
        for reason in run.skipped:
            self.stderr.write(f"Skipped {reason}")

    def _endpoint(self, pk: int | None) -> WebhookEndpoint:
        endpoints = [
            e
            for e in WebhookEndpoint.objects.filter(provider="firstpromoter").order_by("pk")
            if e.has_api_credentials and (pk is None or e.pk == pk)
        ]
        if not endpoints:
            raise CommandError(
                "No FirstPromoter endpoint with API credentials"
                + (f" has id {pk}." if pk else ": set its API key and account id first.")
            )
        if len(endpoints) > 1:
            ids = ", ".join(str(e.pk) for e in endpoints)
            raise CommandError(
                f"Several FirstPromoter endpoints have API credentials: --endpoint {ids}"
            )
        return endpoints[0]

    def _run(self, run: ImportRun, api: FirstPromoterApi, progress: bool) -> None:
        bars: dict[str, tqdm] = {}
        errors = 0
        while run.state != ImportRun.State.DONE:
            try:
                for resource, count in pull.pages(run, api):
                    if resource not in bars:
                        bars[resource] = tqdm(
                            desc=resource,
                            unit=" objects",
                            initial=run.counts.get(resource, 0) - count,
                            disable=not progress,
                            file=self.stderr,
                        )
                    bars[resource].update(count)
                    errors = 0
            except RateLimited as error:
                time.sleep(error.retry_after)
            except Transient as error:
                errors += 1
                if errors > RETRIES:
                    raise CommandError(f"{error} Run the command again to resume.") from None
                time.sleep(pull.backoff(errors).total_seconds())
            except Refused as error:
                raise CommandError(str(error)) from None
        for bar in bars.values():
            bar.close()
