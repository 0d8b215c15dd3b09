"""Copies of one event arriving at the same moment (two gunicorn workers, two app servers) have
exactly one effect; different events creating the same object at once create it once. Real
threads, each with its own database connection, on PostgreSQL."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connections
from django.test import Client

from referralhub.models import Campaign, Lead, Promoter, Promotion, Reward
from tests.webhooks.conftest import needs_postgres
from webhooks import inbox
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]
COPIES = 6


def all_at_once(send: Callable[[Client, int], Any], count: int = COPIES) -> list[int]:
    """Run `send` in `count` threads released together; return their HTTP statuses."""
    barrier = threading.Barrier(count)
    statuses: list[int | None] = [None] * count
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            statuses[index] = send(client, index).status_code
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(status is not None for status in statuses)
    return statuses  # type: ignore[return-value]


def poster(endpoint: WebhookEndpoint, documents: list[dict[str, Any]] | dict[str, Any]):
    def send(client: Client, index: int) -> Any:
        document = documents[index] if isinstance(documents, list) else documents
        return client.post(endpoint.path, json.dumps(document), content_type="application/json")

    return send


def test_it_gives_copies_of_one_event_arriving_at_once_one_effect(fp_endpoint, fp_event) -> None:
    statuses = all_at_once(poster(fp_endpoint, fp_event("reward_created")))

    assert statuses == [200] * COPIES
    assert Reward.objects.count() == 1
    assert Lead.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.processing_attempts) == (
        "processed",
        COPIES,
        1,
    )


def test_it_counts_every_copy_of_a_fulfilment_ask_arriving_at_once(fp_endpoint, fp_event) -> None:
    statuses = all_at_once(poster(fp_endpoint, fp_event("fulfilment_pending_seed")))

    assert statuses == [202] * COPIES
    reward = Reward.objects.get()
    assert reward.fulfilment_request_count == COPIES
    assert WebhookDelivery.objects.get().attempts == COPIES


def test_it_creates_a_promoter_once_when_several_events_name_it_at_once(
    fp_endpoint, fp_event
) -> None:
    documents = []
    for index in range(COPIES):
        document = fp_event("lead_signup", event_id=20_000 + index)
        document["data"]["id"] = 80_000 + index
        documents.append(document)
    signed_up = fp_event("promoter_signed_up")
    signed_up["data"]["promoter"]["id"] = 5272969
    documents[-1] = signed_up

    statuses = all_at_once(poster(fp_endpoint, documents))

    assert statuses == [200] * COPIES
    assert Promoter.objects.count() == 1
    assert Campaign.objects.count() == 1
    assert Lead.objects.count() == COPIES - 1
    assert set(Lead.objects.values_list("promoter__external_id", flat=True)) == {"5272969"}
    assert Promotion.objects.filter(external_id="5680057").count() == 1
    assert WebhookDelivery.objects.filter(status="processed").count() == COPIES


def test_it_creates_one_referrer_for_referees_and_referrer_arriving_at_once(
    rr_endpoint, payload
) -> None:
    referee = payload("referralrocket_referee_added.json")
    documents = []
    for index in range(COPIES - 1):
        document = copy.deepcopy(referee)
        document["data"]["participantId"] = 500 + index
        documents.append(document)
    documents.append(payload("referralrocket_referrer_added_seed.json"))

    statuses = all_at_once(poster(rr_endpoint, documents))

    assert statuses == [200] * COPIES
    promoter = Promoter.objects.get()
    assert promoter.email == "karan.r.shahss92@gmail.com"  # the shell was filled, not lost
    assert Lead.objects.filter(promoter=promoter).count() == COPIES - 1


def test_it_gives_copies_of_one_conversion_arriving_at_once_one_effect(
    ir_endpoint, ir_params
) -> None:
    query = urlencode({**ir_params, "goal_complete": "1"})

    statuses = all_at_once(lambda client, _: client.get(f"{ir_endpoint.path}?{query}"))

    assert statuses == [200] * COPIES
    assert Reward.objects.count() == 1
    assert WebhookDelivery.objects.get().attempts == COPIES


def test_replays_of_an_ignored_delivery_at_once_have_one_effect(fp_endpoint, fp_event) -> None:
    Client().post(fp_endpoint.path, json.dumps(fp_event("reward_created")), "application/json")
    WebhookDelivery.objects.update(status="ignored")  # as if the hub had not handled it then
    Reward.objects.all().delete()
    Lead.objects.all().delete()

    all_at_once(lambda client, _: inbox.replay(WebhookDelivery.objects.get()))

    assert Reward.objects.count() == Lead.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.processing_attempts) == ("processed", 2)
