"""The inbox: every verified delivery is kept as sent; a repeat has no second effect, a repeat of
a failed delivery is processed again."""

from __future__ import annotations

import json

from referralhub.models import Lead, Reward
from tests.webhooks.conftest import mirrored_counts, only_delivery
from webhooks import inbox
from webhooks.models import WebhookDelivery
from webhooks.providers import firstpromoter


def test_it_keeps_the_delivery_as_it_was_sent(client, fp_endpoint, payload) -> None:
    body = json.dumps(payload("firstpromoter_lead_signup.json"))

    client.post(
        f"{fp_endpoint.path}?via=test",
        body,
        content_type="application/json",
        headers={"Authorization": "Bearer x", "Cookie": "a=b", "X-Request-Id": "abc"},
    )

    delivery = only_delivery()
    assert (delivery.endpoint, delivery.provider, delivery.method) == (
        fp_endpoint,
        "firstpromoter",
        "POST",
    )
    assert (delivery.event_type, delivery.idempotency_key) == ("lead_signup", "event:13007880")
    assert delivery.query_string == "via=test"
    assert delivery.headers["X-Request-Id"] == "abc"
    assert delivery.headers["Content-Type"] == "application/json"
    assert {"Authorization", "Cookie"}.isdisjoint(delivery.headers)
    assert json.loads(delivery.body)["data"]["id"] == 91020
    assert delivery.received_at is not None
    assert delivery.processed_at is not None
    assert (delivery.status, delivery.response_status, delivery.error) == ("processed", 200, "")


def test_it_gives_a_repeat_of_a_processed_delivery_no_second_effect(
    fp_endpoint, post_json, fp_event
) -> None:
    first = post_json(fp_endpoint, fp_event("reward_created"))
    counts = mirrored_counts()
    reward = Reward.objects.get()

    again = post_json(fp_endpoint, fp_event("reward_created"))

    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "processed"
    assert again.json()["duplicate"] is True
    assert mirrored_counts() == counts
    Reward.objects.get(pk=reward.pk, updated=reward.updated)  # not even rewritten
    delivery = only_delivery()
    assert (delivery.attempts, delivery.processing_attempts) == (2, 1)
    assert delivery.status == "processed"


def test_it_answers_a_repeat_of_an_ignored_delivery_as_the_first(
    rr_endpoint, post_json, payload
) -> None:
    document = payload("referralrocket_unknown_event.json")
    post_json(rr_endpoint, document)

    again = post_json(rr_endpoint, document)

    assert again.status_code == 200
    assert again.json()["status"] == "ignored"
    assert only_delivery().attempts == 2


def test_it_processes_a_repeat_of_a_failed_delivery_again(
    fp_endpoint, post_json, fp_event, monkeypatch
) -> None:
    def broken(document: dict, delivery: WebhookDelivery) -> None:
        firstpromoter.legacy.on_lead(document, delivery)  # writes, then fails: all rolled back
        raise ConnectionResetError("the CRM hung up")

    with monkeypatch.context() as patch:
        patch.setitem(firstpromoter.legacy.HANDLERS, "lead_signup", broken)
        failed = post_json(fp_endpoint, fp_event("lead_signup"))
    assert failed.status_code == 500
    assert only_delivery().status == "failed"
    assert Lead.objects.count() == 0

    again = post_json(fp_endpoint, fp_event("lead_signup"))

    assert again.status_code == 200
    assert again.json()["status"] == "processed"
    assert Lead.objects.get().state == "signup"
    delivery = only_delivery()
    assert (delivery.status, delivery.response_status, delivery.error) == ("processed", 200, "")
    assert (delivery.attempts, delivery.processing_attempts) == (2, 2)


def test_it_rejects_a_repeat_of_a_rejected_delivery_again(fp_endpoint, post_json) -> None:
    assert post_json(fp_endpoint, b"{oops").status_code == 400
    assert post_json(fp_endpoint, b"{oops").status_code == 400

    delivery = only_delivery()
    assert (delivery.status, delivery.attempts) == ("rejected", 2)


def test_it_keys_firstpromoter_deliveries_by_event_id_only(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    post_json(fp_endpoint, fp_event("lead_signup", event_id=13007999))

    assert WebhookDelivery.objects.count() == 2
    assert Lead.objects.count() == 1


def test_it_keeps_deliveries_of_two_endpoints_apart(db, post_json, fp_event) -> None:
    from webhooks.models import WebhookEndpoint

    one = WebhookEndpoint.objects.create(provider="firstpromoter")
    two = WebhookEndpoint.objects.create(provider="firstpromoter")

    post_json(one, fp_event("lead_signup"))
    post_json(two, fp_event("lead_signup"))

    assert sorted(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [
        one.pk,
        two.pk,
    ]
    assert Lead.objects.count() == 1


def test_it_replays_a_stored_delivery_without_a_second_effect(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("reward_created"))
    counts = mirrored_counts()

    answer = inbox.replay(only_delivery())

    assert answer.status_code == 200
    assert mirrored_counts() == counts
    assert only_delivery().processing_attempts == 1


def test_it_hashes_an_idempotency_key_too_long_for_its_column(
    ir_endpoint, ir_get, ir_params
) -> None:
    params = {**ir_params, "orderID": "o" * 255, "referee_email": "r" * 200 + "@example.com"}

    assert ir_get(ir_endpoint, params).status_code == 200
    assert ir_get(ir_endpoint, params).status_code == 200

    delivery = only_delivery()
    assert delivery.idempotency_key.startswith("sha256:")
    assert delivery.attempts == 2
    lead = Lead.objects.get()
    assert lead.email == "r" * 200 + "@example.com"
    assert len(lead.external_id) <= 100
