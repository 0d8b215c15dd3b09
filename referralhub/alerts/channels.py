"""The two ways an alert reaches people: email to `ALERT_EMAILS`, and a Slack-compatible incoming
webhook (`ALERT_SLACK_WEBHOOK_URL`). The webhook URL is a credential (its path is the token): it
is called through the same SSRF-safe client as event subscriptions, and kept out of every error
message and log line."""

from __future__ import annotations

import json
import smtplib

from django.conf import settings
from django.core.mail import send_mail

from referralhub.alerts.models import Alert, AlertMessage
from referralhub.events import network

USER_AGENT = "ReferralHub-Alerts/1"


class NotSent(Exception):
    """The channel did not take the message; the text says why, without secrets."""


def configured() -> list[str]:
    """The channels the settings turn on."""
    channels: list[str] = []
    if settings.ALERT_EMAILS:
        channels.append(AlertMessage.Channel.EMAIL)
    if settings.ALERT_SLACK_WEBHOOK_URL:
        channels.append(AlertMessage.Channel.SLACK)
    return channels


def send(channel: str, alert: Alert) -> None:
    """Send `alert` on `channel`; raises NotSent."""
    if channel == AlertMessage.Channel.EMAIL:
        _email(alert)
    elif channel == AlertMessage.Channel.SLACK:
        _slack(alert)
    else:
        raise NotSent(f"Unknown channel {channel!r}.")


def _email(alert: Alert) -> None:
    if not settings.ALERT_EMAILS:
        raise NotSent("ALERT_EMAILS is empty.")
    try:
        send_mail(
            f"[ReferralHub] {alert.title}",
            alert.text,
            settings.DEFAULT_FROM_EMAIL,
            settings.ALERT_EMAILS,
        )
    except (smtplib.SMTPException, OSError) as exc:
        raise NotSent(f"{type(exc).__name__}: {exc}"[:500]) from None


def _slack(alert: Alert) -> None:
    url = settings.ALERT_SLACK_WEBHOOK_URL
    if not url:
        raise NotSent("ALERT_SLACK_WEBHOOK_URL is empty.")
    body = json.dumps({"text": f"*{alert.title}*\n{alert.text}"}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    answer = network.post(url, body, headers)
    if answer.status_code is not None and 200 <= answer.status_code < 300:
        return
    reason = answer.error or f"The webhook answered HTTP {answer.status_code}."
    raise NotSent(redacted(reason, url))


def redacted(text: str, url: str) -> str:
    """`text` without the URL or its path, which carry the webhook's token."""
    try:
        path = network.parse(url).path
    except network.Refused:
        path = ""
    for secret in (url, path if len(path) > 1 else ""):
        if secret:
            text = text.replace(secret, "[webhook URL]")
    return text
