"""Attempts under one key with different bodies: the delivery holds the body that was applied,
and every other body the provider sent under its key is kept and shown, with what became of it."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from referralhub.models import Reward
from tests.conftest import make_staff
from tests.webhooks.conftest import only_delivery
from webhooks.models import DeliveryAttempt, WebhookDelivery

BAD_AMOUNT = "abc"


@pytest.fixture
def bad_then_good(fp_event) -> tuple[dict, dict]:
    """Two bodies of one reward event (one key): the first with an amount nobody can read."""
    good = fp_event("reward_created", event_id=777)
    bad = json.loads(json.dumps(good))
    bad["data"]["amount"] = BAD_AMOUNT
    return bad, good


def amount_in(body: str) -> object:
    """The reward amount a stored body carries (stored bodies have credentials redacted)."""
    return json.loads(body)["data"]["amount"]


def test_a_later_valid_body_is_applied_and_the_row_shows_it(
    fp_endpoint, post_json, bad_then_good
) -> None:
    bad, good = bad_then_good
    assert post_json(fp_endpoint, bad).status_code == 400

    response = post_json(fp_endpoint, good)

    assert response.status_code == 200
    delivery = only_delivery()
    assert (delivery.status, delivery.attempts, delivery.error) == ("processed", 2, "")
    assert amount_in(delivery.body) == good["data"]["amount"]
    assert Reward.objects.count() == 1
    (replaced,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert replaced.outcome == DeliveryAttempt.Outcome.REPLACED
    assert replaced.status == WebhookDelivery.Status.REJECTED
    assert "invalid_field" in replaced.error
    assert amount_in(replaced.body) == BAD_AMOUNT


def test_a_different_body_after_processing_is_kept_and_not_applied(
    fp_endpoint, post_json, bad_then_good
) -> None:
    bad, good = bad_then_good
    post_json(fp_endpoint, good)

    response = post_json(fp_endpoint, bad)

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    delivery = only_delivery()
    assert amount_in(delivery.body) == good["data"]["amount"]
    (late,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (late.outcome, late.status) == (DeliveryAttempt.Outcome.LATE, "processed")
    assert amount_in(late.body) == BAD_AMOUNT


def test_a_second_bad_body_replaces_the_first_with_its_own_error(
    fp_endpoint, post_json, bad_then_good
) -> None:
    bad, _ = bad_then_good
    worse = json.loads(json.dumps(bad))
    worse["data"]["amount"] = [1]
    post_json(fp_endpoint, bad)

    assert post_json(fp_endpoint, worse).status_code == 400

    delivery = only_delivery()
    assert (delivery.status, amount_in(delivery.body)) == ("rejected", [1])
    assert "data.amount" in delivery.error
    (replaced,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (amount_in(replaced.body), replaced.status) == (BAD_AMOUNT, "rejected")


def test_an_identical_redelivery_is_only_counted(fp_endpoint, post_json, bad_then_good) -> None:
    _, good = bad_then_good
    post_json(fp_endpoint, good)
    post_json(fp_endpoint, good)

    assert only_delivery().attempts == 2
    assert not DeliveryAttempt.objects.exists()


@pytest.fixture
def replaced_delivery(fp_endpoint, post_json, bad_then_good) -> WebhookDelivery:
    bad, good = bad_then_good
    post_json(fp_endpoint, bad)
    post_json(fp_endpoint, good)
    return only_delivery()


def test_the_dashboard_page_shows_each_body_and_which_was_applied(
    client, replaced_delivery: WebhookDelivery
) -> None:
    client.force_login(make_staff("watcher", "webhooks.view_webhookdelivery"))

    page = client.get(f"/dashboard/deliveries/{replaced_delivery.pk}/").content.decode()

    assert "Applied body" in page
    assert "Other bodies sent under this key" in page
    assert "Replaced by a later body before it was applied" in page
    assert BAD_AMOUNT in page


def test_the_admin_page_shows_each_body_and_which_was_applied(
    replaced_delivery: WebhookDelivery,
) -> None:
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))

    page = client.get(
        f"/admin/webhooks/webhookdelivery/{replaced_delivery.pk}/change/"
    ).content.decode()

    assert "Other bodies sent under this key" in page
    assert "Replaced by a later body before it was applied" in page
    assert BAD_AMOUNT in page
