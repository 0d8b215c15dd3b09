"""System checks of the alert settings (`manage.py check`, and every command's start): a Slack
URL the hub would refuse to call, or links in messages without the hub's address. Neither message
quotes the URL, which is a secret."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from referralhub.events import network


@checks.register()
def alert_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.ALERT_SLACK_WEBHOOK_URL:
        try:
            network.parse(settings.ALERT_SLACK_WEBHOOK_URL)
        except network.Refused as exc:
            problems.append(
                checks.Error(f"ALERT_SLACK_WEBHOOK_URL cannot be used: {exc}", id="alerts.E001")
            )
    if (settings.ALERT_EMAILS or settings.ALERT_SLACK_WEBHOOK_URL) and not settings.SITE_URL:
        problems.append(
            checks.Warning(
                "SITE_URL is not set: the links in alerts are paths without the hub's address.",
                hint="Set SITE_URL=https://hub.example.com (docs/alerts.md).",
                id="alerts.W001",
            )
        )
    return problems
