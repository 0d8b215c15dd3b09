"""Sending events: fan-out to subscriptions, signed requests, the retry schedule.

Each event is sent at least once to each subscription that wanted it when it happened. The tasks
carry no state of their own: a delivery's row says what is due (`attempt_count` is the task's
ticket), so a task run twice (a worker that died mid-send comes back) sends again, with the same
`webhook-id`, and a task made stale by a newer one does nothing. The HTTP request is made outside
any transaction; its outcome, the attempt's row and the next retry's task are written together.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from standardwebhooks.webhooks import Webhook

import alerts.services
from referralhub.background import enqueue
from referralhub.events import network
from referralhub.events.wanted import forget_wanted
from referralhub.models.events import Event, EventAttempt, EventDelivery, EventSubscription

# The Standard Webhooks specification's schedule: the waits after the first attempt, the second…
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
# Answers that ask the sender to slow down: the next attempt waits at least their Retry-After.
BACK_OFF = frozenset({429, 502, 504})
LONGEST_RETRY_AFTER = timedelta(hours=24)
USER_AGENT = "ReferralHub-Events/1"


@task()
def fan_out(event_ids: list[int]) -> None:
    """Make each event's deliveries (once, whatever the reruns), then send their first attempt."""
    events = list(Event.objects.filter(pk__in=event_ids).order_by("pk"))
    subscriptions = list(EventSubscription.objects.filter(is_active=True))
    with transaction.atomic():
        made = set(
            EventDelivery.objects.filter(event__in=events).values_list("event", "subscription")
        )
        now = timezone.now()
        EventDelivery.objects.bulk_create(
            EventDelivery(event=event, subscription=subscription, next_attempt_at=now)
            for event in events
            for subscription in subscriptions
            if subscription.wants(event.type)
            and subscription.created <= event.created
            and (event.pk, subscription.pk) not in made
        )
    first = EventDelivery.objects.filter(
        event__in=events, status=EventDelivery.Status.PENDING, attempt_count=0
    ).order_by("pk")
    for pk in first.values_list("pk", flat=True):
        attempt(pk, expected_attempts=0)


@task()
def deliver(delivery_id: int, expected_attempts: int) -> None:
    attempt(delivery_id, expected_attempts=expected_attempts)


def attempt(delivery_id: int, *, expected_attempts: int) -> None:
    """Send a pending delivery, if it still waits for this attempt, and record what came of it."""
    delivery = (
        EventDelivery.objects.select_related("event", "subscription")
        .filter(pk=delivery_id, status=EventDelivery.Status.PENDING)
        .first()
    )
    if delivery is None or delivery.attempt_count != expected_attempts:
        return
    subscription = delivery.subscription
    if not subscription.is_active:
        EventDelivery.objects.filter(pk=delivery.pk, attempt_count=expected_attempts).update(
            status=EventDelivery.Status.FAILED,
            next_attempt_at=None,
            last_error="Not sent: the subscription is not active.",
        )
        return
    now = timezone.now()
    body = json.dumps(delivery.event.payload(), ensure_ascii=False, separators=(",", ":"))
    answer = network.post(
        subscription.url, body.encode(), signed_headers(delivery.event, subscription, body, now)
    )
    _record(delivery.pk, expected_attempts, now, answer)


def signed_headers(
    event: Event, subscription: EventSubscription, body: str, now: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers: during a rotation, signed with both secrets."""
    signatures = [
        Webhook(secret).sign(event.webhook_id, now, body)
        for secret in subscription.signing_secrets(now)
    ]
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


@transaction.atomic
def _record(delivery_id: int, expected: int, now: datetime, answer: network.Answer) -> None:
    locked = EventDelivery.objects.select_for_update().select_related("subscription")
    delivery = locked.get(pk=delivery_id)
    EventAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        succeeded=succeeded(answer.status_code),
        status_code=answer.status_code,
        error=answer.error or _meaning(answer.status_code),
        response_body=answer.body,
        duration_ms=answer.duration_ms,
    )
    current = delivery.attempt_count == expected and delivery.status == EventDelivery.Status.PENDING
    delivery.attempt_count += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = answer.status_code
    delivery.last_error = (answer.error or _meaning(answer.status_code))[:500]
    if current:
        _next(delivery, now, answer)
    delivery.save()


def _next(delivery: EventDelivery, now: datetime, answer: network.Answer) -> None:
    """Decide the delivery's state after an attempt, and schedule the retry."""
    subscription = delivery.subscription
    delivery.round_attempts += 1
    delivery.next_attempt_at = None
    if succeeded(answer.status_code):
        delivery.status = EventDelivery.Status.SUCCEEDED
        if subscription.failing_since is not None:
            EventSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        return
    failing_since = subscription.failing_since or now
    if subscription.failing_since is None:
        EventSubscription.objects.filter(pk=subscription.pk).update(failing_since=now)
    if answer.status_code == 410:
        delivery.status = EventDelivery.Status.FAILED
        disable(subscription, now, "The endpoint answered 410 Gone: it asked for no more events.")
        return
    if now - failing_since >= settings.EVENTS_DISABLE_AFTER:
        delivery.status = EventDelivery.Status.FAILED
        days = settings.EVENTS_DISABLE_AFTER.days
        disable(subscription, now, f"Every attempt failed for {days} days.")
        return
    if delivery.round_attempts > len(SCHEDULE):
        delivery.status = EventDelivery.Status.FAILED
        return
    wait = SCHEDULE[delivery.round_attempts - 1]
    if answer.status_code in BACK_OFF and answer.retry_after is not None:
        wait = max(wait, min(timedelta(seconds=answer.retry_after), LONGEST_RETRY_AFTER))
    delivery.next_attempt_at = now + wait
    enqueue(deliver.using(run_after=delivery.next_attempt_at), delivery.pk, delivery.attempt_count)


def disable(subscription: EventSubscription, now: datetime, reason: str) -> None:
    """Stop sending to a subscription, saying why where staff look (dashboard and admin)."""
    EventSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_at=now, disabled_reason=reason
    )
    forget_wanted()
    alerts.services.subscription_disabled(subscription, now, reason)


def _meaning(status_code: int | None) -> str:
    if status_code is None or succeeded(status_code):
        return ""
    return f"The endpoint answered HTTP {status_code}."
