"""Deliveries that fail or are refused: one message per endpoint and quarter hour, saying how
many, sent when the quarter hour ends; race-safe when deliveries fail at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from referralhub.alerts import raising, sending
from referralhub.alerts.models import Alert, AlertMessage
from tests.factories import DeliveryFactory, EndpointFactory
from webhooks.models import WebhookDelivery
from webhooks.providers import firstpromoter

QUARTER = timedelta(minutes=15)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC)


def test_a_refused_delivery_alerts_by_email_and_slack_when_its_quarter_hour_ends(
    alerts_on, fp_endpoint, post_json, run_due
):
    fp_endpoint.name = "FirstPromoter live"
    fp_endpoint.save()
    for _ in range(3):
        assert post_json(fp_endpoint, "{not json").status_code == 400

    alert = Alert.objects.get()
    # The provider sent the same refused body three times: each time counts.
    assert (alert.kind, alert.subject_id, alert.count) == ("deliveries_failing", fp_endpoint.pk, 3)
    assert run_due() == 0  # not before the quarter hour ends
    assert run_due(until=alert.window + QUARTER) == 1

    (email,) = mail.outbox
    assert email.to == ["ops@example.com", "oncall@example.com"]
    assert email.subject == "[ReferralHub] 3 failed or refused deliveries on FirstPromoter live"
    link = (
        f"https://hub.example.com/dashboard/deliveries/?endpoint={fp_endpoint.pk}"
        "&status=failed&status=rejected&received=24h"
    )
    assert link in email.body
    (text,) = alerts_on.texts
    assert "3 failed or refused deliveries to the webhook endpoint FirstPromoter live" in text
    assert fp_endpoint.token not in email.body + text
    assert set(AlertMessage.objects.values_list("channel", "state")) == {
        ("email", "sent"),
        ("slack", "sent"),
    }


def test_a_quarter_hours_failures_make_one_message_that_counts_them(email_only, run_due):
    endpoint = EndpointFactory(name="Referral Rocket")
    for minute in (0, 3, 14):
        raising.delivery_failed(DeliveryFactory(endpoint=endpoint), now=at(10, minute, 59))
    raising.delivery_failed(DeliveryFactory(endpoint=endpoint), now=at(10, 15))
    raising.delivery_failed(DeliveryFactory(endpoint=EndpointFactory()), now=at(10, 5))

    first, second = Alert.objects.filter(subject_id=endpoint.pk).order_by("window")
    assert (first.window, first.count) == (at(10, 0), 3)
    assert (second.window, second.count) == (at(10, 15), 1)
    assert Alert.objects.count() == 3
    run_due(until=timezone_now_plus(days=1))
    subjects = sorted(message.subject for message in mail.outbox)
    assert "[ReferralHub] 3 failed or refused deliveries on Referral Rocket" in subjects
    assert "Between 2026-03-02 10:00 UTC and 10:15, 3 failed or refused" in (
        next(m.body for m in mail.outbox if "3 failed" in m.subject)
    )
    assert len(mail.outbox) == 3


def test_a_delivery_whose_processing_fails_alerts_too(
    email_only, fp_endpoint, post_json, payload, monkeypatch
):
    def broken(reward_pk: int) -> None:
        raise RuntimeError("decision service exploded")

    monkeypatch.setattr(firstpromoter.legacy, "sync_decision", broken)
    assert post_json(fp_endpoint, payload("firstpromoter_reward_created.json")).status_code == 500
    assert WebhookDelivery.objects.get().status == "failed"
    assert Alert.objects.get().kind == "deliveries_failing"


def test_without_channels_the_alert_is_still_recorded_with_its_final_count(
    settings, fp_endpoint, post_json, run_due
):
    settings.ALERT_EMAILS, settings.ALERT_SLACK_WEBHOOK_URL = [], ""
    post_json(fp_endpoint, "{not json")
    post_json(fp_endpoint, "{not json either")
    alert = Alert.objects.get()
    assert not AlertMessage.objects.exists()
    run_due(until=alert.window + QUARTER)
    alert.refresh_from_db()
    assert alert.count == 2
    assert alert.title.startswith("2 failed or refused deliveries")


def timezone_now_plus(**delta: float) -> datetime:
    return timezone.now() + timedelta(**delta)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_deliveries_failing_at_the_same_moment_make_one_alert_that_counts_each(settings):
    settings.ALERT_EMAILS, settings.ALERT_SLACK_WEBHOOK_URL = ["ops@example.com"], ""
    endpoint = EndpointFactory()
    deliveries = [DeliveryFactory(endpoint=endpoint) for _ in range(8)]
    barrier = threading.Barrier(len(deliveries))
    errors: list[BaseException] = []

    def fail(delivery: WebhookDelivery) -> None:
        try:
            barrier.wait(timeout=30)
            raising.delivery_failed(delivery, now=at(9, 7))
        except BaseException as exc:  # reported in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fail, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    alert = Alert.objects.get()
    assert alert.count == 8
    assert AlertMessage.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    sending.send_alert.call(alert.pk)
    (email,) = mail.outbox
    assert email.subject.startswith("[ReferralHub] 8 failed or refused deliveries")
