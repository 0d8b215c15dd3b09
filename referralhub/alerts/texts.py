"""What each alert says: a title and a plain text, with links to the dashboard page to act on.

The texts never carry a credential: endpoints are named by their name (or provider and number),
never by their URL, whose token is a key; subscriptions by their description or number, never by
their URL, which may carry the receiver's own token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from referralhub.alerts.models import Alert
from referralhub.models import EventSubscription
from webhooks.models import CommissionPush, ImportRun, WebhookEndpoint


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def link(name: str, query: dict[str, str | list[str]] | None = None, **kwargs: int) -> str:
    """The dashboard's URL for the view `name`, whole when SITE_URL is set."""
    path = reverse(name, kwargs=kwargs or None)
    if query:
        path += "?" + urlencode(query, doseq=True)
    return settings.SITE_URL + path


def moment(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def duration(span: timedelta) -> str:
    """`span` in the largest whole unit that fits: 3 days, 5 hours, 20 minutes."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            return plural(minutes // size, unit)
    return plural(minutes, "minute")


def plural(count: int, word: str, words: str = "") -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"


def deliveries_failing(endpoint: WebhookEndpoint, window: datetime, count: int) -> Text:
    end = window + timedelta(minutes=15)
    many = plural(count, "failed or refused delivery", "failed or refused deliveries")
    return Text(
        f"{many} on {endpoint}",
        f"Between {moment(window)} and {timezone.localtime(end):%H:%M}, {many} to the webhook "
        f"endpoint {endpoint} (a provider's retries of one delivery count each).\n"
        f"Their errors, and replays: "
        + link(
            "dashboard:deliveries",
            {"endpoint": str(endpoint.pk), "status": ["failed", "rejected"], "received": "24h"},
        ),
    )


def endpoint_silent(endpoint: WebhookEndpoint, last: datetime | None, now: datetime) -> Text:
    expected = duration(endpoint.expected_every or timedelta(0))
    since = f"since {moment(last)}" if last else "since it was created"
    return Text(
        f"{endpoint} has gone silent",
        f"The webhook endpoint {endpoint} expects a delivery at least every {expected}, and has "
        f"received none {since}. Check the provider's webhook settings and logs.\n"
        f"Its deliveries: " + link("dashboard:deliveries", {"endpoint": str(endpoint.pk)}),
    )


def endpoint_back(endpoint: WebhookEndpoint, silent_since: datetime, back_at: datetime) -> Text:
    return Text(
        f"{endpoint} is receiving deliveries again",
        f"The webhook endpoint {endpoint}, silent since {moment(silent_since)}, received a "
        f"delivery at {moment(back_at)}.\n"
        f"Its deliveries: " + link("dashboard:deliveries", {"endpoint": str(endpoint.pk)}),
    )


def subscription_disabled(subscription: EventSubscription, reason: str) -> Text:
    name = subscription.description or f"#{subscription.pk}"
    return Text(
        f"Event subscription {name} was switched off",
        f"The hub stopped sending events to the subscription {name}. {reason}\n"
        f"Fix the receiver, then switch it on again: "
        + link("dashboard:event_subscription", pk=subscription.pk),
    )


def pushes_failed(count: int, reason: str) -> Text:
    decisions = plural(count, "staff decision")
    return Text(
        f"FirstPromoter did not take {decisions}",
        f"{decisions} could not be sent to FirstPromoter and wait for a person. "
        f"The last reason: {reason}\n"
        f"Send them again from the sync page: " + link("dashboard:sync"),
    )


def import_failed(run: ImportRun, reason: str) -> Text:
    return Text(
        f"FirstPromoter import #{run.pk} failed",
        f"The import of FirstPromoter's history #{run.pk} stopped: {reason}\n"
        f"Start another from the sync page: " + link("dashboard:sync"),
    )


@dataclass(frozen=True)
class Waiting:
    approvals: int
    suspects: int
    fulfilments: int
    sync_problems: int


def digest(day: datetime, waiting: Waiting) -> Text:
    lines = [
        f"Rewards waiting for approval: {waiting.approvals} - " + link("dashboard:approvals"),
        f"  of which self-referral suspects: {waiting.suspects} - "
        + link("dashboard:approvals", {"suspects": "on"}),
        f"Rewards waiting for fulfilment: {waiting.fulfilments} - " + link("dashboard:fulfilments"),
        f"FirstPromoter decisions needing a person: {waiting.sync_problems} - "
        + link("dashboard:sync"),
    ]
    return Text(f"Daily digest for {timezone.localtime(day):%Y-%m-%d}", "\n".join(lines))


def recounted(alert: Alert) -> Text | None:
    """A grouped alert's text with its final count, as it is sent; None for the others."""
    if alert.kind == Alert.Kind.DELIVERIES_FAILING:
        endpoint = WebhookEndpoint.objects.filter(pk=alert.subject_id).first()
        return deliveries_failing(endpoint, alert.window, alert.count) if endpoint else None
    if alert.kind == Alert.Kind.PUSHES_FAILED:
        failed = CommissionPush.objects.filter(
            endpoint_id=alert.subject_id, state=CommissionPush.State.FAILED
        )
        reason = failed.order_by("-updated").values_list("error", flat=True).first()
        return pushes_failed(alert.count, reason or "")
    return None
