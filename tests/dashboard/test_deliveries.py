"""The inbox in the dashboard: filters, a delivery's page and one-click replay."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from referralhub.models import AuditEntry, Lead
from tests.dashboard.conftest import days_ago
from tests.factories import DeliveryFactory
from webhooks.models import WebhookDelivery

LIST = "/dashboard/deliveries/"


@pytest.fixture
def failed(fp_endpoint, payload) -> WebhookDelivery:
    """A valid delivery whose processing failed (say, a bug since fixed)."""
    return DeliveryFactory(
        endpoint=fp_endpoint,
        event_type="new_customer",
        status=WebhookDelivery.Status.FAILED,
        error="Traceback: boom",
        response_status=500,
        body=json.dumps(payload("firstpromoter_new_customer_seed.json")),
        headers={"Content-Type": "application/json", "User-Agent": "FirstPromoter"},
    )


def test_it_filters_by_status_provider_and_event_type(
    as_bob: Client, fp_endpoint, rr_endpoint, failed
) -> None:
    ok = DeliveryFactory(endpoint=fp_endpoint, event_type="lead_signup")
    rr = DeliveryFactory(endpoint=rr_endpoint, event_type="referee_added")
    rejected = DeliveryFactory(
        endpoint=rr_endpoint, event_type="", status="rejected", received_at=days_ago(2)
    )

    def shown(**query: str | list[str]) -> list[int]:
        return [d.pk for d in as_bob.get(LIST, query).context["page"].items]

    assert shown() == [rr.pk, ok.pk, failed.pk, rejected.pk]
    assert shown(status="failed") == [failed.pk]
    assert shown(status=["failed", "rejected"]) == [failed.pk, rejected.pk]
    assert shown(status=["failed", "rejected"], received="24h") == [failed.pk]
    assert shown(received="7d") == [rr.pk, ok.pk, failed.pk, rejected.pk]
    assert shown(provider="referralrocket") == [rr.pk, rejected.pk]
    assert shown(event_type="lead_signup") == [ok.pk]
    assert shown(endpoint=str(rr_endpoint.pk)) == [rr.pk, rejected.pk]
    assert shown(endpoint=str(fp_endpoint.pk), status="failed") == [failed.pk]
    everything = [rr.pk, ok.pk, failed.pk, rejected.pk]
    assert shown(status="bogus") == everything  # a bad filter is ignored
    assert shown(received="forever") == everything
    assert shown(endpoint="999999") == everything


def test_the_status_filter_is_boxes_to_tick(as_bob: Client, db) -> None:
    html = as_bob.get(LIST, {"status": ["failed", "rejected"]}).content.decode()
    for status in ("failed", "rejected"):
        assert f'type="checkbox" name="status" value="{status}"' in html
        assert re.search(rf'value="{status}"[^>]*checked', html)
    assert not re.search(r'value="processed"[^>]*checked', html)


def test_the_event_type_is_a_list_of_the_known_types_and_keeps_any_other(
    as_bob: Client, rr_endpoint
) -> None:
    html = as_bob.get(LIST).content.decode()
    assert '<select name="event_type"' in html
    for event_type in ("fulfilment_pending", "referrer_added", "conversion"):
        assert f'<option value="{event_type}">{event_type}</option>' in html
    # A type no module names (Referral Rocket may send one) still filters from a link.
    unknown = DeliveryFactory(endpoint=rr_endpoint, event_type="reward_unlocked", status="ignored")
    response = as_bob.get(LIST, {"event_type": "reward_unlocked"})
    assert [d.pk for d in response.context["page"].items] == [unknown.pk]
    assert '<option value="reward_unlocked" selected>' in response.content.decode()


def test_it_shows_headers_and_a_pretty_body(as_bob: Client, failed) -> None:
    html = as_bob.get(reverse("dashboard:delivery", args=[failed.pk])).content.decode()
    assert "User-Agent" in html
    assert "FirstPromoter" in html
    assert "\n  &quot;data&quot;: {\n    &quot;cancelled_at&quot;" in html
    assert "Traceback: boom" in html


def test_it_shows_a_non_json_body_as_is(as_bob: Client, ir_endpoint) -> None:
    delivery = DeliveryFactory(
        endpoint=ir_endpoint, body="orderID=1&conversion=success", method="PUT"
    )
    html = as_bob.get(reverse("dashboard:delivery", args=[delivery.pk])).content.decode()
    assert "orderID=1&amp;conversion=success" in html


def test_it_replays_a_failed_delivery_and_records_it(client, replayer, failed) -> None:
    client.force_login(replayer)
    page = client.get(reverse("dashboard:delivery", args=[failed.pk])).content.decode()
    assert ">Replay<" in page
    response = client.post(reverse("dashboard:delivery_replay", args=[failed.pk]), follow=True)
    failed.refresh_from_db()
    assert failed.status == "processed"
    assert Lead.objects.filter(external_id="91011").exists()
    assert "now processed (HTTP 200)" in response.content.decode()
    entry = AuditEntry.objects.get(action="replay")
    assert entry.actor == replayer
    assert entry.changes == {"status": ["failed", "processed"]}
    assert "Answered HTTP 200" in response.content.decode()  # the history on the page


def test_it_replays_a_rejected_delivery_that_is_still_bad(client, replayer, fp_endpoint) -> None:
    bad = DeliveryFactory(endpoint=fp_endpoint, status=WebhookDelivery.Status.REJECTED, body="{}")
    client.force_login(replayer)
    response = client.post(reverse("dashboard:delivery_replay", args=[bad.pk]), follow=True)
    assert "still rejected (HTTP 400)" in response.content.decode()
    assert AuditEntry.objects.filter(action="replay", object_id=str(bad.pk)).exists()


def test_it_replays_an_ignored_delivery_the_hub_handles_now(client, replayer, failed) -> None:
    # Ignored when it came (say, before the hub handled its event type): it had no effect.
    WebhookDelivery.objects.filter(pk=failed.pk).update(status="ignored", response_status=200)
    client.force_login(replayer)
    assert b">Replay<" in client.get(reverse("dashboard:delivery", args=[failed.pk])).content

    response = client.post(reverse("dashboard:delivery_replay", args=[failed.pk]), follow=True)

    assert "now processed (HTTP 200)" in response.content.decode()
    assert Lead.objects.filter(external_id="91011").exists()
    assert AuditEntry.objects.get(action="replay").changes == {"status": ["ignored", "processed"]}


def test_it_does_not_replay_a_processed_delivery(client, replayer, fp_endpoint) -> None:
    done = DeliveryFactory(endpoint=fp_endpoint)
    client.force_login(replayer)
    assert b">Replay<" not in client.get(reverse("dashboard:delivery", args=[done.pk])).content
    response = client.post(reverse("dashboard:delivery_replay", args=[done.pk]), follow=True)
    assert "only failed, rejected, ignored or unfinished" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_it_refuses_replay_without_permission(as_bob: Client, failed) -> None:
    assert b">Replay<" not in as_bob.get(reverse("dashboard:delivery", args=[failed.pk])).content
    response = as_bob.post(reverse("dashboard:delivery_replay", args=[failed.pk]))
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_it_enforces_csrf_on_replay(replayer, failed) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(replayer)
    assert client.post(reverse("dashboard:delivery_replay", args=[failed.pk])).status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_it_refuses_replay_to_anonymous_and_non_staff(client, carol, failed) -> None:
    url = reverse("dashboard:delivery_replay", args=[failed.pk])
    assert client.post(url).status_code == 302
    client.force_login(carol)
    assert client.post(url).status_code == 403
