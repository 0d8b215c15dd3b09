"""Replaying a stored delivery through the inbox, for staff with the inbox's change permission."""

from __future__ import annotations

import json

import pytest

from referralhub.models import AuditEntry, Lead
from tests.conftest import load_payload
from tests.factories import DeliveryFactory
from webhooks.models import WebhookDelivery


@pytest.fixture
def failed(fp_endpoint) -> WebhookDelivery:
    """A real FirstPromoter delivery whose first processing failed (e.g. a bug since fixed)."""
    seed = load_payload("firstpromoter_new_customer_seed.json")
    return DeliveryFactory(
        endpoint=fp_endpoint,
        idempotency_key=str(seed["event"]["id"]),
        event_type=seed["event"]["type"],
        body=json.dumps(seed),
        status="failed",
        error="Traceback: boom",
        response_status=500,
    )


def test_it_replays_a_failed_delivery_and_records_it(api, olga, failed):
    response = api(olga).post(f"/api/v1/deliveries/{failed.pk}/replay/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["delivery"]["status"] == "processed"
    assert body["answer"]["status_code"] == 200
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("processed", "")
    assert Lead.objects.count() == 1
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_id) == (olga, "replay", str(failed.pk))
    assert entry.changes == {"status": ["failed", "processed"]}


def test_it_replays_an_ignored_delivery_and_leaves_an_unknown_type_ignored(api, olga, failed):
    WebhookDelivery.objects.filter(pk=failed.pk).update(status="ignored")
    unknown = DeliveryFactory(
        endpoint=failed.endpoint,
        event_type="promoter_tiered_up",
        status="ignored",
        body=json.dumps({"event": {"id": 7, "type": "promoter_tiered_up"}, "data": {}}),
    )

    handled = api(olga).post(f"/api/v1/deliveries/{failed.pk}/replay/")
    still = api(olga).post(f"/api/v1/deliveries/{unknown.pk}/replay/")

    assert handled.json()["delivery"]["status"] == "processed"
    assert Lead.objects.count() == 1
    assert still.status_code == 200
    assert still.json()["delivery"]["status"] == "ignored"
    assert still.json()["answer"]["body"]["status"] == "ignored"


def test_it_refuses_to_replay_a_processed_delivery_with_409(api, olga, failed):
    client = api(olga)
    assert client.post(f"/api/v1/deliveries/{failed.pk}/replay/").status_code == 200
    again = client.post(f"/api/v1/deliveries/{failed.pk}/replay/")
    assert again.status_code == 409
    assert again.json() == {
        "error": "transition_not_allowed",
        "detail": {str(failed.pk): "already processed"},
    }
    assert Lead.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_it_keeps_a_bad_body_rejected(api, olga, fp_endpoint):
    delivery = DeliveryFactory(endpoint=fp_endpoint, body="{not json", status="failed")
    response = api(olga).post(f"/api/v1/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 200
    assert response.json()["answer"]["status_code"] == 400
    delivery.refresh_from_db()
    assert delivery.status == "rejected"


def test_it_refuses_replay_without_the_permission(api, anon, alice, carol, failed):
    url = f"/api/v1/deliveries/{failed.pk}/replay/"
    assert anon.post(url).status_code == 401
    assert api(alice).post(url).status_code == 403  # staff, not an inbox operator
    assert api(carol).post(url).status_code == 403  # not staff
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert not AuditEntry.objects.exists()


def test_it_answers_404_for_an_unknown_delivery(api, olga):
    response = api(olga).post("/api/v1/deliveries/424242/replay/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
