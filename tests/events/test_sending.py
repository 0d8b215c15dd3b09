"""One task sends many events: the fan-out of every waiting event, a subscription's due
deliveries in order over one kept-alive connection, checked per connection, under a lease."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referralhub.events import delivery as sending
from referralhub.events.subscriptions import subscription_create, subscription_update
from referralhub.models import Event, EventDelivery, EventSubscription
from referralhub.services import rewards_act
from tests.events.test_network import resolving
from tests.factories import RewardFactory


def approve(actor, count: int) -> list[Event]:
    """`count` staff decisions, each committed on its own with its own fan-out task."""
    for reward in RewardFactory.create_batch(count):
        rewards_act(action="approve", reward_ids=[reward.pk], actor=actor)
    return list(Event.objects.order_by("pk"))


def test_the_first_task_sends_every_waiting_event_in_order_over_one_connection(
    alice, subscribe, receiver, run_tasks
):
    subscribe()
    events = approve(alice, 6)
    assert run_tasks() == 6  # one task per change: the first sends them all, the rest find none
    assert [r.headers["webhook-id"] for r in receiver.received] == [e.webhook_id for e in events]
    assert len({r.client_port for r in receiver.received}) == 1
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert not Event.objects.filter(fanned_out=False).exists()


def test_queries_per_event_sent_do_not_grow_with_the_number_of_events(alice, subscribe, receiver):
    subscribe()

    def queries_to_send(count: int) -> int:
        events = approve(alice, count)
        with CaptureQueriesContext(connection) as queries:
            sending.make_deliveries([events[-1].pk])
            sending.send_everything_due("task:test", time.monotonic() + 60)
        return len(queries)

    ten = queries_to_send(10)
    forty = queries_to_send(30)
    assert len(receiver.received) == 40
    # Per event: its delivery's UPDATE; the lock, the attempts' INSERT and the commit are per
    # batch of attempts recorded together.
    assert forty - ten <= (30 - 10) * 2


def test_a_subscription_another_task_sends_to_is_left_alone(
    alice, carol, subscribe, receiver, run_tasks
):
    subscription, _ = subscribe()
    until = timezone.now() + timedelta(minutes=1)
    EventSubscription.objects.filter(pk=subscription.pk).update(
        sender="task:other", sending_until=until
    )
    approve(alice, 1)
    run_tasks()
    assert receiver.received == []
    assert EventDelivery.objects.get().status == "pending"
    # Staff saving the subscription meanwhile leave the lease to its holder.
    subscription.refresh_from_db()
    subscription_update(actor=carol, subscription=subscription, description="CRM")
    assert EventSubscription.objects.get().sender == "task:other"

    # Its holder died and its task never came back: once the lease ran out, another task sends.
    EventSubscription.objects.filter(pk=subscription.pk).update(
        sending_until=timezone.now() - timedelta(seconds=1)
    )
    sending.send_due(subscription.pk, "task:next", time.monotonic() + 60)
    assert len(receiver.received) == 1
    assert EventSubscription.objects.get().sender == ""  # released


def test_a_task_out_of_time_hands_the_rest_to_a_fresh_one(alice, subscribe, receiver, run_tasks):
    subscribe()
    approve(alice, 3)
    sending.make_deliveries([])
    with mock.patch.object(sending, "RUN_FOR", -1.0):
        sending.send_everything_due("task:late", time.monotonic() - 1)
    assert receiver.received == []
    run_tasks()
    assert len(receiver.received) == 3


def test_every_new_connection_resolves_and_checks_the_host_again(
    alice, carol, receiver, run_tasks, settings
):
    settings.EVENTS_ALLOWED_HOSTS = ["receiver.test"]
    port = receiver.url.split(":")[2].split("/")[0]
    lookups = resolving({"receiver.test": "127.0.0.1"})
    with mock.patch("socket.getaddrinfo", side_effect=lookups) as resolver:
        subscription_create(actor=carol, url=f"http://receiver.test:{port}/hooks")
        resolver.reset_mock()
        approve(alice, 3)
        run_tasks()
        assert lookups_of(resolver, "receiver.test") == 1  # one kept-alive connection
        assert len({r.client_port for r in receiver.received}) == 1

        for _ in range(3):
            receiver.answer(204, Connection="close")
        resolver.reset_mock()
        approve(alice, 3)
        run_tasks()
        assert lookups_of(resolver, "receiver.test") == 3  # closed by the receiver: each checked
        assert len({r.client_port for r in receiver.received[3:]}) == 3


def lookups_of(resolver: mock.Mock, host: str) -> int:
    return sum(1 for call in resolver.call_args_list if call.args[0] == host)


def test_an_address_that_turns_internal_between_connections_is_refused(
    alice, carol, receiver, run_tasks, settings
):
    """DNS rebinding between two connections of one task."""
    public = resolving({"rebind.example.com": "93.184.215.14"})
    with mock.patch("socket.getaddrinfo", side_effect=public):
        subscription_create(actor=carol, url="https://rebind.example.com/hook")
    approve(alice, 2)
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        return resolving({"rebind.example.com": next(answers)})(host, port, *args, **kwargs)

    # The first connection goes to the public address (nothing listens: no answer); the second
    # resolves to loopback and is refused before connecting.
    with (
        mock.patch("socket.getaddrinfo", side_effect=rebinding),
        mock.patch("urllib3.connection.HTTPSConnection.connect", side_effect=OSError("no route")),
    ):
        run_tasks()
    errors = list(EventDelivery.objects.order_by("pk").values_list("attempts__error", flat=True))
    assert "no route" in errors[0]
    assert "not a public address" in errors[1]
    assert receiver.received == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tasks_sending_at_once_send_each_event_once(alice, subscribe, receiver):
    if connection.vendor != "postgresql":
        pytest.skip("a real race needs PostgreSQL's row locks and separate connections")
    subscription, _ = subscribe()
    with transaction.atomic():
        events = approve(alice, 20)
    sending.make_deliveries([e.pk for e in events])
    barrier = threading.Barrier(2)

    def send(sender: str) -> None:
        try:
            barrier.wait(10)
            sending.send_due(subscription.pk, sender, time.monotonic() + 60)
        finally:
            from django.db import connection as own

            own.close()

    threads = [threading.Thread(target=send, args=(f"task:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(ids) == sorted(e.webhook_id for e in events)  # each once
    assert ids == [e.webhook_id for e in events]  # and in order: one sender at a time
    assert EventDelivery.objects.filter(status="succeeded").count() == 20


def test_a_failure_among_successes_is_retried_alone(alice, subscribe, receiver, run_tasks):
    subscribe()
    receiver.answer(204)
    receiver.answer(500)
    first, second, third = approve(alice, 3)
    run_tasks()
    by_event = {d.event_id: d for d in EventDelivery.objects.all()}
    assert [by_event[e.pk].status for e in (first, second, third)] == [
        "succeeded",
        "pending",
        "succeeded",
    ]
    retry = by_event[second.pk]
    assert retry.next_attempt_at is not None
    assert retry.last_attempt_at is not None
    assert retry.next_attempt_at - retry.last_attempt_at == sending.SCHEDULE[0]
    assert EventSubscription.objects.get().failing_since is None  # the last attempt succeeded


def test_a_410_stops_the_sending_and_fails_the_rest_as_not_sent(
    alice, subscribe, receiver, run_tasks
):
    subscribe()
    receiver.answer(204)
    receiver.answer(410)
    first, second, third = approve(alice, 3)
    run_tasks()
    assert len(receiver.received) == 2
    by_event = {d.event_id: d for d in EventDelivery.objects.all()}
    assert by_event[first.pk].status == "succeeded"
    assert by_event[second.pk].status == "failed"
    assert (by_event[third.pk].status, by_event[third.pk].last_error) == (
        "failed",
        sending.NOT_ACTIVE,
    )
    assert not EventSubscription.objects.get().is_active
