"""Sending an alert's messages in the background, with retries.

- `send_alert` runs once the alert is complete (at once, or when a grouped alert's quarter hour
  ends): it writes a grouped alert's text again with its final count, then makes each message's
  first attempt. It runs even when no channel is configured, so the admin shows the final text.
- The tasks carry no state of their own: a message's row says what is due, and `attempts` is the
  task's ticket, so a task run twice (a worker that died mid-send comes back) or made stale by a
  newer one does nothing more than send again. A message that every attempt failed is marked
  failed, for staff to see in the admin.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from referralhub.alerts import channels, texts
from referralhub.alerts.models import Alert, AlertMessage
from referralhub.background import enqueue

logger = logging.getLogger(__name__)

# The waits after the first attempt, the second…; then the message has failed.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
State = AlertMessage.State


def queue_alert(alert: Alert, run_after: datetime | None = None) -> None:
    """Send `alert` in the background (after `run_after`), in the caller's transaction."""
    enqueue(send_alert.using(run_after=run_after) if run_after else send_alert, alert.pk)


def queue(message: AlertMessage, run_after: datetime | None = None) -> None:
    """Attempt `message` again in the background, in the caller's transaction."""
    task = send_message.using(run_after=run_after) if run_after else send_message
    enqueue(task, message.pk, message.attempts)


@task()
def send_alert(alert_id: int) -> None:
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return
    if (words := texts.recounted(alert)) is not None:
        alert.title, alert.text = words.title[:200], words.body
        Alert.objects.filter(pk=alert.pk).update(title=alert.title, text=alert.text)
    first = alert.messages.filter(state=State.PENDING, attempts=0).order_by("pk")
    for message_id in first.values_list("pk", flat=True):
        attempt(message_id, expected_attempts=0)


@task()
def send_message(message_id: int, expected_attempts: int) -> None:
    attempt(message_id, expected_attempts=expected_attempts)


def attempt(message_id: int, *, expected_attempts: int) -> None:
    """Send a pending message, if it still waits for this attempt, and record what came of it."""
    message = (
        AlertMessage.objects.select_related("alert")
        .filter(pk=message_id, state=State.PENDING, attempts=expected_attempts)
        .first()
    )
    if message is None:
        return
    try:
        channels.send(message.channel, message.alert)
    except channels.NotSent as exc:
        _record_failure(message, str(exc), timezone.now())
    else:
        _record_success(message, timezone.now())


def _record_success(message: AlertMessage, now: datetime) -> None:
    AlertMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(
        state=State.SENT, attempts=message.attempts + 1, sent_at=now, next_attempt_at=None
    )


@transaction.atomic
def _record_failure(message: AlertMessage, reason: str, now: datetime) -> None:
    # The reason is already free of the channel's secrets (alerts.channels).
    logger.warning("Alert %s not sent by %s: %s", message.alert_id, message.channel, reason)
    done = message.attempts + 1
    if done > len(SCHEDULE):
        state, next_at = State.FAILED, None
    else:
        state, next_at = State.PENDING, now + SCHEDULE[done - 1]
    updated = AlertMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(
        state=state, attempts=done, next_attempt_at=next_at, last_error=reason[:500]
    )
    if updated and next_at is not None:
        message.attempts = done
        queue(message, run_after=next_at)


RESEND_PERMISSION = "alerts.resend_alert"


def can_resend(user: User | AnonymousUser) -> bool:
    return user.has_perm(RESEND_PERMISSION)


def messages_resend(*, actor: User | AnonymousUser, messages: list[AlertMessage]) -> int:
    """Send failed messages again, with a fresh schedule (staff's button); returns how many."""
    if not can_resend(actor):
        raise PermissionDenied("You do not have permission to send alerts again.")
    failed = [m for m in messages if m.state == State.FAILED]
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for message in failed:
            if AlertMessage.objects.filter(pk=message.pk, state=State.FAILED).update(
                state=State.PENDING, attempts=0, next_attempt_at=now
            ):
                message.attempts = 0
                queue(message)
                count += 1
    return count
