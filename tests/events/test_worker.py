"""At least once: a worker killed mid-send sends again, with the same webhook-id."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from referralhub.models import EventDelivery
from referralhub.services import rewards_act
from tests.background.test_background import _worker
from tests.factories import RewardFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_sends_again_with_the_same_webhook_id(alice, subscribe, receiver):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that a second process can share: run on PostgreSQL")
    _, secret = subscribe()
    receiver.stall = threading.Event()
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)

    first = _worker("events-1")
    try:
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        receiver.stall.set()
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("pending", 0)  # nothing recorded
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING

    second = _worker("events-1", "--batch")
    assert second.wait(60) == 0
    first_try, second_try = receiver.received
    assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"]
    assert second_try.verifies_with(secret)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 1)
