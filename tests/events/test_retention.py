"""Retention of events out: what `manage.py prune_webhooks` drops of them and what it keeps."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referralhub.events.retention import events_prune, prunable_deliveries, prunable_events
from referralhub.models import Event, EventAttempt, EventDelivery
from tests.factories import EventDeliveryFactory, EventFactory, EventSubscriptionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")
DAY = timedelta(days=1)


def _delivery(status: str, age_days: float, resolved_days_ago: float | None = None) -> int:
    """A delivery of an event `age_days` old; its last attempt `resolved_days_ago`."""
    made = NOW - age_days * DAY
    delivery = EventDeliveryFactory(status=status, event=EventFactory(created=made))
    last = made if resolved_days_ago is None else NOW - resolved_days_ago * DAY
    EventDelivery.objects.filter(pk=delivery.pk).update(
        created=made, last_attempt_at=last if delivery.attempt_count else None
    )
    return delivery.pk


def _remaining() -> set[int]:
    return set(EventDelivery.objects.values_list("pk", flat=True))


def test_prunes_delivered_events_past_retention_and_keeps_the_rest():
    old_delivered = _delivery("succeeded", 91)
    recent_delivered = _delivery("succeeded", 89)
    unresolved = {_delivery("failed", 400), _delivery("pending", 400)}
    old_event = EventDelivery.objects.get(pk=old_delivered).event_id

    result = events_prune(days=90, now=NOW)

    assert (result.deliveries, result.events, result.kept_unresolved) == (1, 1, 2)
    assert _remaining() == {recent_delivered} | unresolved
    assert not Event.objects.filter(pk=old_event).exists()
    assert EventAttempt.objects.filter(delivery_id=old_delivered).count() == 0
    # The events of the kept deliveries stay with them.
    assert Event.objects.count() == 3


def test_a_failed_delivery_replayed_to_success_is_kept_for_the_period_after_it():
    resolved_recently = _delivery("succeeded", 200, resolved_days_ago=10)
    resolved_long_ago = _delivery("succeeded", 300, resolved_days_ago=120)
    still_failed = _delivery("failed", 300)

    events_prune(days=90, now=NOW)

    assert _remaining() == {resolved_recently, still_failed}
    assert resolved_long_ago not in _remaining()


def test_an_event_shared_by_two_subscriptions_goes_with_its_last_delivery():
    event = EventFactory(created=NOW - 100 * DAY)
    delivered = EventDeliveryFactory(event=event, status="succeeded")
    failed = EventDeliveryFactory(event=event, status="failed")
    EventDelivery.objects.update(created=NOW - 100 * DAY, last_attempt_at=NOW - 100 * DAY)

    events_prune(days=90, now=NOW)
    assert _remaining() == {failed.pk}
    assert Event.objects.filter(pk=event.pk).exists()

    EventDelivery.objects.filter(pk=failed.pk).update(status="succeeded")
    events_prune(days=90, now=NOW)
    assert not Event.objects.filter(pk=event.pk).exists()
    assert delivered.pk not in _remaining()


def test_an_old_event_still_waiting_for_its_fan_out_stays():
    waiting = EventFactory(created=NOW - 100 * DAY, fanned_out=False)
    nobody_wanted = EventFactory(created=NOW - 100 * DAY)

    result = events_prune(days=90, now=NOW)

    assert result.events == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert nobody_wanted.pk != waiting.pk


def test_uses_the_events_setting_by_default(settings):
    settings.WEBHOOK_RETENTION_DAYS = 90
    settings.EVENTS_RETENTION_DAYS = 5
    old = _delivery("succeeded", 6)
    young = _delivery("succeeded", 4)

    events_prune(now=NOW)

    assert _remaining() == {young}
    assert old not in _remaining()


def test_deletes_in_bounded_batches():
    subscription = EventSubscriptionFactory()
    for _ in range(7):
        EventDeliveryFactory(subscription=subscription, status="succeeded")
    failed = EventDeliveryFactory(subscription=subscription, status="failed")
    EventDelivery.objects.update(created=NOW - 100 * DAY, last_attempt_at=NOW - 100 * DAY)
    Event.objects.update(created=NOW - 100 * DAY)
    keep = _delivery("succeeded", 1)

    with CaptureQueriesContext(connection) as queries:
        result = events_prune(days=90, batch_size=3, now=NOW)

    def deletes(model) -> int:
        start = f'DELETE FROM "{model._meta.db_table}" '
        return sum(1 for q in queries.captured_queries if q["sql"].startswith(start))

    # Deliveries in batches of 3, 3 and 1; then the 7 events left without a delivery.
    assert (result.deliveries, result.events, result.batches) == (7, 7, 3 + 3)
    assert (deletes(EventDelivery), deletes(EventAttempt), deletes(Event)) == (3, 3, 3)
    assert _remaining() == {failed.pk, keep}


def test_dry_run_counts_and_deletes_nothing():
    ids = {_delivery("succeeded", 100), _delivery("succeeded", 100), _delivery("failed", 100)}

    result = events_prune(days=90, dry_run=True, now=NOW)

    assert (result.deliveries, result.events, result.kept_unresolved) == (2, 2, 1)
    assert _remaining() == ids


def test_the_command_prunes_events_out_with_the_inbox():
    old = _delivery("succeeded", 100)
    EventDelivery.objects.filter(pk=old).update(
        created=timezone.now() - 100 * DAY, last_attempt_at=timezone.now() - 100 * DAY
    )
    Event.objects.update(created=timezone.now() - 100 * DAY)
    out = StringIO()

    call_command("prune_webhooks", "--dry-run", "--days=90", stdout=out)
    assert "Would delete 1 delivered events out (with their attempts) and 1 events" in (
        out.getvalue()
    )
    assert old in _remaining()

    out = StringIO()
    call_command("prune_webhooks", stdout=out)
    assert "Deleted 1 delivered events out" in out.getvalue()
    assert old not in _remaining()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sender_and_the_webhook_path_never_wait_on_a_prune():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    subscription = EventSubscriptionFactory()
    old = [EventDeliveryFactory(subscription=subscription, status="succeeded") for _ in range(3)]
    pending = EventDeliveryFactory(subscription=subscription, status="pending")
    ages = {"created": NOW - 100 * DAY, "last_attempt_at": NOW - 100 * DAY}
    EventDelivery.objects.filter(pk__in=[d.pk for d in [*old, pending]]).update(**ages)
    Event.objects.update(created=NOW - 100 * DAY)
    cutoff = NOW - 90 * DAY
    deleted, release = threading.Event(), threading.Event()

    def prune_one_batch_and_hold() -> None:
        try:
            with transaction.atomic():
                prunable_deliveries(cutoff).delete()
                prunable_events(cutoff).delete()
                deleted.set()
                release.wait(20)
        finally:
            connection.close()

    pruning = threading.Thread(target=prune_one_batch_and_hold)
    pruning.start()
    try:
        assert deleted.wait(20)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        # What the sender writes for a pending delivery, and what the webhook path inserts.
        with transaction.atomic():
            locked = EventDelivery.objects.select_for_update().get(pk=pending.pk)
            EventAttempt.objects.create(
                delivery=locked, attempted_at=timezone.now(), succeeded=True, status_code=204
            )
            EventDelivery.objects.filter(pk=pending.pk).update(status="succeeded")
            EventFactory()
        assert EventDelivery.objects.get(pk=pending.pk).status == "succeeded"
    finally:
        release.set()
        pruning.join(20)
    assert _remaining() == {pending.pk}
