"""Raising alerts: each at most once (a unique row), its messages queued in the caller's
transaction, so that an alert exists exactly when the change it reports commits.

The hub's code calls one function here where a problem happens (a delivery failing, a
subscription switched off, a FirstPromoter push or import given up); the time-based alerts
(silence, the digest) are raised by `referralhub.alerts.checks`, which `manage.py check_alerts`
runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from referralhub.alerts import channels, sending, texts
from referralhub.alerts.models import Alert, AlertMessage
from referralhub.models import EventSubscription
from webhooks.models import CommissionPush, ImportRun, WebhookDelivery, WebhookEndpoint

GROUPING = timedelta(minutes=15)
Kind = Alert.Kind


def quarter_hour(now: datetime) -> datetime:
    """The start of the quarter hour `now` is in: the window grouped alerts count in."""
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


@transaction.atomic
def alert_raise(*, kind: str, subject_id: int, window: datetime, text: texts.Text) -> Alert | None:
    """Raise the alert once: the new alert, or None if it was raised already (by anyone)."""
    alert, created = Alert.objects.get_or_create(
        kind=kind,
        subject_id=subject_id,
        window=window,
        defaults={"title": text.title[:200], "text": text.body},
    )
    if not created:
        return None
    _queue_messages(alert, send_at=None)
    return alert


def alert_count(
    *,
    kind: str,
    subject_id: int,
    window: datetime,
    text: Callable[[int], texts.Text],
    occurrences: int = 1,
) -> None:
    """Count `occurrences` more in the alert of this window. The first makes the alert and queues
    its messages, sent when the window ends, their text written again then with the final count
    (`alert_refresh`); the others cost one UPDATE, as failures can come in floods."""
    alerts = Alert.objects.filter(kind=kind, subject_id=subject_id, window=window)
    if alerts.update(count=F("count") + occurrences):
        return
    with transaction.atomic():
        words = text(occurrences)
        alert, created = Alert.objects.get_or_create(
            kind=kind,
            subject_id=subject_id,
            window=window,
            defaults={"count": occurrences, "title": words.title[:200], "text": words.body},
        )
        if created:
            _queue_messages(alert, send_at=window + GROUPING)
        else:  # made a moment ago by another process
            alerts.update(count=F("count") + occurrences)


def _queue_messages(alert: Alert, send_at: datetime | None) -> None:
    messages = AlertMessage.objects.bulk_create(
        AlertMessage(alert=alert, channel=channel, next_attempt_at=send_at or timezone.now())
        for channel in channels.configured()
    )
    # A grouped alert (sent later) has its text written again with its final count, channels or
    # not, so that the admin shows it.
    if messages or send_at is not None:
        sending.queue_alert(alert, run_after=send_at)


def delivery_failed(delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """A webhook delivery failed to process or was refused: one message per endpoint and quarter
    hour, saying how many."""
    window = quarter_hour(now or timezone.now())
    alert_count(
        kind=Kind.DELIVERIES_FAILING,
        subject_id=delivery.endpoint_id,
        window=window,
        text=lambda count: texts.deliveries_failing(
            WebhookEndpoint.objects.get(pk=delivery.endpoint_id), window, count
        ),
    )


def subscription_disabled(subscription: EventSubscription, now: datetime, reason: str) -> None:
    """The hub switched an event subscription off (410 Gone, or failing for days)."""
    alert_raise(
        kind=Kind.SUBSCRIPTION_DISABLED,
        subject_id=subscription.pk,
        window=now,
        text=texts.subscription_disabled(subscription, reason),
    )


def pushes_failed(pushes: Sequence[CommissionPush], reason: str) -> None:
    """FirstPromoter's API did not take staff decisions, which now wait for a person: one
    message per account endpoint and quarter hour."""
    if not pushes:
        return
    window = quarter_hour(timezone.now())
    alert_count(
        kind=Kind.PUSHES_FAILED,
        subject_id=pushes[0].endpoint_id,
        window=window,
        text=lambda count: texts.pushes_failed(count, reason),
        occurrences=len(pushes),
    )


def import_failed(run: ImportRun, reason: str) -> None:
    """An import of FirstPromoter's history stopped for good: once per import."""
    alert_raise(
        kind=Kind.IMPORT_FAILED,
        subject_id=run.pk,
        window=run.created,
        text=texts.import_failed(run, reason),
    )
