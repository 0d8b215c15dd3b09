"""Sending events: fan-out to subscriptions, signed requests, the retry schedule.

Each event is sent at least once to each subscription that wanted it when it happened. The tasks
carry no state of their own, they only wake the sender: the rows are the work.

- Fan-out: any events task first makes the deliveries of every event still waiting for them
  (`Event.fanned_out`), so the first of many queued tasks makes them all.
- Sending: a task then sends each subscription's due deliveries, oldest first, over one kept-alive
  connection, under a lease on the subscription (`sender`, `sending_until`): one task sends to a
  subscription at a time, another one leaves it alone, and the same task, put back in the queue
  after its worker died, takes it back and sends again, with the same `webhook-id`. A task sends
  for `RUN_FOR` seconds at most, then hands the rest to a fresh one.
- A delivery's row says what is due (`attempt_count` is the attempt's ticket). The HTTP requests
  are made outside any transaction; their outcomes, the attempts' rows and the retries' wake-up
  tasks are written together, for up to `RECORD_EVERY` successes at a time (a failure at once).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskContext
from standardwebhooks.webhooks import Webhook

from referralhub.alerts import raising
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
RUN_FOR = 30.0  # seconds a task sends before it hands over to a fresh one
FAN_OUT_BATCH = 500  # events whose deliveries are made in one transaction
SEND_BATCH = 100  # due deliveries read at a time
# Successful attempts recorded together, in one transaction: a worker that dies sends at most
# that many again (with the same webhook-ids). A failure is recorded at once.
RECORD_EVERY = 25
RECORDED = [
    "status",
    "attempt_count",
    "round_attempts",
    "next_attempt_at",
    "last_attempt_at",
    "last_status_code",
    "last_error",
]
NOT_ACTIVE = "Not sent: the subscription is not active."


def lease_length() -> timedelta:
    """Longer than a task holds a subscription: its sending time, one last attempt's timeout and
    the writes after it. Only a sender that died and whose task is never put back waits it out."""
    return timedelta(seconds=RUN_FOR + settings.EVENTS_TIMEOUT_SECONDS + 60)


@task(takes_context=True)
def fan_out(context: TaskContext, event_ids: list[int]) -> None:
    """Make the deliveries of these events (and any other waiting), then send what is due."""
    make_deliveries(event_ids)
    send_everything_due(_sender(context), time.monotonic() + RUN_FOR)


@task(takes_context=True)
def deliver(context: TaskContext, delivery_id: int, expected_attempts: int) -> None:
    """Wake the sender for a delivery's retry (or replay): its subscription's due deliveries."""
    subscription_id = (
        EventDelivery.objects.filter(pk=delivery_id).values_list("subscription", flat=True).first()
    )
    if subscription_id is not None:
        send_due(subscription_id, _sender(context), time.monotonic() + RUN_FOR)


@task(takes_context=True)
def send_more(context: TaskContext, subscription_id: int) -> None:
    """Go on sending where a task that ran out of time stopped."""
    send_due(subscription_id, _sender(context), time.monotonic() + RUN_FOR)


def _sender(context: TaskContext) -> str:
    return f"task:{context.task_result.id}"


def make_deliveries(event_ids: Iterable[int]) -> None:
    """Each event's deliveries (once, whatever the reruns), to the subscriptions that existed
    and wanted it when it happened: these events, then every other event still waiting."""
    _fan_out(list(Event.objects.filter(pk__in=list(event_ids)).order_by("pk")))
    waiting = Event.objects.filter(fanned_out=False).order_by("pk")
    while events := list(waiting[:FAN_OUT_BATCH]):
        _fan_out(events)


@transaction.atomic
def _fan_out(events: list[Event]) -> None:
    if not events:
        return
    subscriptions = list(EventSubscription.objects.filter(is_active=True))
    now = timezone.now()
    # Two tasks may fan out the same events at once: the unique constraint keeps one of each.
    EventDelivery.objects.bulk_create(
        (
            EventDelivery(event=event, subscription=subscription, next_attempt_at=now)
            for event in events
            for subscription in subscriptions
            if subscription.wants(event.type) and subscription.created <= event.created
        ),
        ignore_conflicts=True,
    )
    Event.objects.filter(pk__in=[e.pk for e in events], fanned_out=False).update(fanned_out=True)


def due(subscription_id: int, now: datetime) -> QuerySet[EventDelivery]:
    return EventDelivery.objects.filter(
        subscription_id=subscription_id,
        status=EventDelivery.Status.PENDING,
        next_attempt_at__lte=now,
    )


def send_everything_due(sender: str, stop_at: float) -> None:
    """Send every subscription's due deliveries, one subscription after the other."""
    pending = EventDelivery.objects.filter(
        status=EventDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
    )
    subscription_ids = sorted(set(pending.values_list("subscription", flat=True).distinct()))
    for subscription_id in subscription_ids:
        send_due(subscription_id, sender, stop_at)


def send_due(subscription_id: int, sender: str, stop_at: float) -> None:
    """Send a subscription's due deliveries, if no other task is sending them."""
    while _lease(subscription_id, sender):
        try:
            finished = _send_leased(subscription_id, stop_at)
        finally:
            _release(subscription_id, sender)
        # A task that found the lease taken left its deliveries to this one: look once more.
        if not due(subscription_id, timezone.now()).exists():
            return
        if not finished:
            enqueue(send_more, subscription_id)
            return


def _lease(subscription_id: int, sender: str) -> bool:
    """Take the subscription's lease (a conditional UPDATE: of two tasks, one takes it)."""
    now = timezone.now()
    free = Q(sender="") | Q(sender=sender) | Q(sending_until__lt=now)
    taken = EventSubscription.objects.filter(free, pk=subscription_id).update(
        sender=sender, sending_until=now + lease_length()
    )
    return taken == 1


def _release(subscription_id: int, sender: str) -> None:
    EventSubscription.objects.filter(pk=subscription_id, sender=sender).update(
        sender="", sending_until=None
    )


def _send_leased(subscription_id: int, stop_at: float) -> bool:
    """Send the due deliveries, oldest first, over one connection; False when time ran out."""
    subscription = EventSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return True
    if not subscription.is_active:
        due(subscription_id, timezone.now()).update(
            status=EventDelivery.Status.FAILED, next_attempt_at=None, last_error=NOT_ACTIVE
        )
        return True
    last = 0
    connection = network.Connection(subscription.url)
    try:
        while batch := _next_batch(subscription_id, after=last):
            # Staff may have switched it off, or changed its URL or secret, meanwhile.
            subscription.refresh_from_db()
            if not subscription.is_active:
                return True  # the next pass fails the rest as not sent
            if connection.url != subscription.url:
                connection.close()
                connection = network.Connection(subscription.url)
            sent: list[Sent] = []
            for delivery in batch:
                if time.monotonic() > stop_at:
                    _record(subscription_id, sent)
                    return False
                last = delivery.pk
                sent.append(_send(connection, delivery, subscription))
                if succeeded(sent[-1].answer.status_code) and len(sent) < RECORD_EVERY:
                    continue
                _record(subscription_id, sent)
                if not succeeded(sent[-1].answer.status_code):
                    # A 410, or days of failures, switch it off.
                    subscription.refresh_from_db()
                    if not subscription.is_active:
                        return True
                sent = []
            _record(subscription_id, sent)
    finally:
        connection.close()
    return True


def _next_batch(subscription_id: int, *, after: int) -> list[EventDelivery]:
    ordered = due(subscription_id, timezone.now()).filter(pk__gt=after).order_by("pk")
    return list(ordered.select_related("event")[:SEND_BATCH])


@dataclass(frozen=True)
class Sent:
    """An attempt made and not yet recorded: `attempts` is the delivery's count when sent."""

    delivery_id: int
    attempts: int
    at: datetime
    answer: network.Answer


def _send(
    connection: network.Connection, delivery: EventDelivery, subscription: EventSubscription
) -> Sent:
    now = timezone.now()
    body = json.dumps(delivery.event.payload(), ensure_ascii=False, separators=(",", ":"))
    answer = connection.post(body.encode(), signed_headers(delivery.event, subscription, body, now))
    return Sent(delivery.pk, delivery.attempt_count, now, answer)


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
def _record(subscription_id: int, sent: list[Sent]) -> None:
    """Write attempts' outcomes, their deliveries' new states and the retries' wake-up tasks,
    in one transaction: one commit per batch, not per attempt."""
    if not sent:
        return
    locked = EventDelivery.objects.select_for_update()
    deliveries = locked.in_bulk([s.delivery_id for s in sent])
    # One instance for the batch, which `_next` keeps as the database has it.
    subscription = EventSubscription.objects.get(pk=subscription_id)
    attempts = []
    for attempt in sent:
        delivery = deliveries.get(attempt.delivery_id)
        if delivery is None:
            continue  # deleted with its subscription meanwhile
        answer = attempt.answer
        delivery.subscription = subscription
        attempts.append(
            EventAttempt(
                delivery=delivery,
                attempted_at=attempt.at,
                succeeded=succeeded(answer.status_code),
                status_code=answer.status_code,
                error=answer.error or _meaning(answer.status_code),
                response_body=answer.body,
                duration_ms=answer.duration_ms,
            )
        )
        current = (
            delivery.attempt_count == attempt.attempts
            and delivery.status == EventDelivery.Status.PENDING
        )
        delivery.attempt_count += 1
        delivery.last_attempt_at = attempt.at
        delivery.last_status_code = answer.status_code
        delivery.last_error = (answer.error or _meaning(answer.status_code))[:500]
        if current:
            _next(delivery, attempt.at, answer)
    EventAttempt.objects.bulk_create(attempts)
    for delivery in deliveries.values():
        delivery.save(update_fields=RECORDED)  # cheaper than bulk_update's CASE per column


def _next(delivery: EventDelivery, now: datetime, answer: network.Answer) -> None:
    """Decide the delivery's state after an attempt, and schedule the retry."""
    subscription = delivery.subscription
    delivery.round_attempts += 1
    delivery.next_attempt_at = None
    if succeeded(answer.status_code):
        delivery.status = EventDelivery.Status.SUCCEEDED
        if subscription.failing_since is not None:
            EventSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
            subscription.failing_since = None
        return
    failing_since = subscription.failing_since or now
    if subscription.failing_since is None:
        EventSubscription.objects.filter(pk=subscription.pk).update(failing_since=now)
        subscription.failing_since = now
    if not subscription.is_active:
        delivery.status = EventDelivery.Status.FAILED  # switched off by an earlier attempt
        return
    if answer.status_code == 410:
        delivery.status = EventDelivery.Status.FAILED
        disable(subscription, now, "The endpoint answered 410 Gone: it asked for no more events.")
        subscription.is_active = False
        return
    if now - failing_since >= settings.EVENTS_DISABLE_AFTER:
        delivery.status = EventDelivery.Status.FAILED
        days = settings.EVENTS_DISABLE_AFTER.days
        disable(subscription, now, f"Every attempt failed for {days} days.")
        subscription.is_active = False
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
    raising.subscription_disabled(subscription, now, reason)


def _meaning(status_code: int | None) -> str:
    if status_code is None or succeeded(status_code):
        return ""
    return f"The endpoint answered HTTP {status_code}."
