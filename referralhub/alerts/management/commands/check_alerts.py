"""Raise the time-based alerts: endpoints gone silent (and back), and the daily digest.

Safe to run every minute, and from several servers: each alert is raised once (a unique row).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from referralhub.alerts.checks import check_all


class Command(BaseCommand):
    help = (
        "Alert on webhook endpoints gone silent or back, and send the daily digest once its "
        "hour has come. Run it every minute from cron."
    )

    def handle(self, *args: object, verbosity: int, **options: object) -> None:
        checked = check_all(timezone.now())
        if verbosity > 1 or checked.silent or checked.back or checked.digest:
            self.stdout.write(
                f"Silent: {checked.silent}, back: {checked.back}, "
                f"digest: {'sent' if checked.digest else 'not due'}."
            )
