"""Signed delivery to a real receiver, the retry schedule, 410, back-off, rotation, replays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from referralhub.background import enqueue
from referralhub.events import delivery as sending
from referralhub.events.subscriptions import (
    NotReplayable,
    deliveries_replay_since,
    delivery_replay,
    new_secret,
    subscription_rotate_secret,
    subscription_update,
)
from referralhub.models import Event, EventAttempt, EventDelivery, EventSubscription
from referralhub.services import rewards_act
from tests.factories import RewardFactory


def wait_after(delivery: EventDelivery) -> timedelta:
    """How long the delivery waits after its last attempt before the next."""
    assert delivery.next_attempt_at is not None
    assert delivery.last_attempt_at is not None
    return delivery.next_attempt_at - delivery.last_attempt_at


def approve_one(actor) -> Event:
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=actor)
    return Event.objects.latest("pk")


def run_due_retry(run_tasks) -> DBTaskResult:
    """Bring the one scheduled retry forward to now, run it, and return it as it was."""
    task = DBTaskResult.objects.get(status="READY")
    now = timezone.now()
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=now)
    EventDelivery.objects.filter(status="pending").update(next_attempt_at=now)
    assert run_tasks() == 1
    return task


def test_the_receiver_verifies_the_signature_with_standardwebhooks(
    alice, subscribe, receiver, run_tasks
):
    _, secret = subscribe()
    event = approve_one(alice)
    run_tasks()
    (received,) = receiver.received
    assert received.verifies_with(secret)
    assert not received.verifies_with(new_secret())
    assert received.headers["webhook-id"] == event.webhook_id
    assert received.payload == {
        "type": "reward.approved",
        "timestamp": event.payload()["timestamp"],
        "data": event.data,
    }
    attempt = EventAttempt.objects.get()
    assert (attempt.succeeded, attempt.status_code) == (True, 204)
    assert EventDelivery.objects.get().status == "succeeded"


def test_failures_are_retried_on_the_standard_webhooks_schedule_then_given_up(
    alice, subscribe, receiver, run_tasks
):
    subscribe()
    for _ in range(8):
        receiver.answer(500, b"oops " * 400)
    approve_one(alice)
    run_tasks()
    waits = []
    for _ in sending.SCHEDULE:
        delivery = EventDelivery.objects.get()
        waits.append(wait_after(delivery))
        task = DBTaskResult.objects.get(status="READY")
        assert task.run_after == delivery.next_attempt_at
        run_due_retry(run_tasks)
    assert waits == list(sending.SCHEDULE)
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        "failed",
        8,
        None,
    )
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 8
    assert len(ids) == 1
    attempt = EventAttempt.objects.first()
    assert attempt is not None
    assert attempt.status_code == 500
    assert len(attempt.response_body) == 1024
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_retry_that_succeeds_ends_the_schedule(alice, subscribe, receiver, run_tasks):
    _subscription, _ = subscribe()
    receiver.answer(503)
    approve_one(alice)
    run_tasks()
    assert EventSubscription.objects.get().failing_since is not None
    run_due_retry(run_tasks)
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert EventSubscription.objects.get().failing_since is None


def test_410_disables_the_subscription_and_says_why(alice, subscribe, receiver, run_tasks):
    subscribe()
    receiver.answer(410)
    approve_one(alice)
    run_tasks()
    subscription = EventSubscription.objects.get()
    assert not subscription.is_active
    assert "410" in subscription.disabled_reason
    assert subscription.disabled_at
    assert EventDelivery.objects.get().status == "failed"
    approve_one(alice)
    run_tasks()
    assert len(receiver.received) == 1  # nothing more is sent


@pytest.mark.parametrize("status", [429, 502, 504])
def test_slow_down_answers_wait_at_least_their_retry_after(
    alice, subscribe, receiver, run_tasks, status
):
    subscribe()
    receiver.answer(status, Retry_After="3600")
    approve_one(alice)
    run_tasks()
    delivery = EventDelivery.objects.get()
    assert wait_after(delivery) == timedelta(hours=1)


def test_a_short_retry_after_does_not_hurry_the_schedule(alice, subscribe, receiver, run_tasks):
    subscribe()
    receiver.answer(429, Retry_After="1")
    approve_one(alice)
    run_tasks()
    delivery = EventDelivery.objects.get()
    assert wait_after(delivery) == sending.SCHEDULE[0]


def test_a_subscription_failing_for_five_days_is_disabled(alice, subscribe, receiver, run_tasks):
    subscription, _ = subscribe()
    EventSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    receiver.answer(500)
    approve_one(alice)
    run_tasks()
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_reason == "Every attempt failed for 5 days."


def test_an_unreachable_receiver_is_an_attempt_without_status(alice, subscribe, run_tasks, carol):
    subscription, _ = subscribe()
    subscription_update(actor=carol, subscription=subscription, url="http://127.0.0.1:9/nothing")
    approve_one(alice)
    run_tasks()
    attempt = EventAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error
    assert EventDelivery.objects.get().status == "pending"


def test_rotation_signs_with_both_secrets_then_only_the_new_one(
    alice, carol, subscribe, receiver, run_tasks
):
    subscription, old = subscribe()
    new = subscription_rotate_secret(actor=carol, subscription=subscription)
    assert new != old
    assert new.startswith("whsec_")
    approve_one(alice)
    run_tasks()
    during = receiver.received[-1]
    assert during.verifies_with(old)
    assert during.verifies_with(new)
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    EventSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    approve_one(alice)
    run_tasks()
    after = receiver.received[-1]
    assert after.verifies_with(new)
    assert not after.verifies_with(old)


def test_a_failed_delivery_is_replayed_with_the_same_webhook_id(
    alice, carol, subscribe, receiver, run_tasks
):
    subscribe()
    receiver.answer(410)
    approve_one(alice)
    run_tasks()
    subscription = EventSubscription.objects.get()
    delivery = EventDelivery.objects.get()
    with pytest.raises(NotReplayable):
        delivery_replay(actor=carol, delivery=delivery)  # the subscription is off
    subscription_update(actor=carol, subscription=subscription, is_active=True)
    assert EventSubscription.objects.get().disabled_reason == ""
    delivery_replay(actor=carol, delivery=delivery)
    run_tasks()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    with pytest.raises(NotReplayable):
        delivery_replay(actor=carol, delivery=delivery)


def test_failed_deliveries_since_a_time_are_replayed(alice, carol, subscribe, receiver, run_tasks):
    subscribe()
    for _ in range(3):
        receiver.answer(410)
        approve_one(alice)
        run_tasks()
        subscription_update(
            actor=carol, subscription=EventSubscription.objects.get(), is_active=True
        )
    oldest = Event.objects.earliest("pk")
    Event.objects.filter(pk=oldest.pk).update(created=timezone.now() - timedelta(days=2))
    count = deliveries_replay_since(actor=carol, since=timezone.now() - timedelta(days=1))
    assert count == 2
    run_tasks()
    assert EventDelivery.objects.filter(status="succeeded").count() == 2
    assert EventDelivery.objects.get(event=oldest).status == "failed"


def test_a_stale_task_sends_nothing(alice, subscribe, receiver, run_tasks):
    subscribe()
    approve_one(alice)
    run_tasks()
    delivery = EventDelivery.objects.get()
    enqueue(sending.deliver, delivery.pk, 0)  # ran already
    assert run_tasks() == 1
    assert len(receiver.received) == 1
