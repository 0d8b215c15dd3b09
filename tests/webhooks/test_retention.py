"""Inbox retention: what `manage.py prune_webhooks` drops and what it keeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referralhub.models import AuditEntry
from tests.factories import AuditEntryFactory, DeliveryFactory, EndpointFactory, LeadFactory
from webhooks.models import DeliveryAttempt, WebhookDelivery
from webhooks.retention import deliveries_prune

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")
DAY = timedelta(days=1)


def _delivery(status: str, age_days: float, resolved_days_ago: float | None = None) -> int:
    processed_at = None if resolved_days_ago is None else NOW - resolved_days_ago * DAY
    return DeliveryFactory(
        status=status, received_at=NOW - age_days * DAY, processed_at=processed_at
    ).pk


def _remaining() -> set[int]:
    return set(WebhookDelivery.objects.values_list("pk", flat=True))


def test_prunes_processed_and_ignored_past_retention_and_keeps_the_rest():
    old_processed = _delivery("processed", 91, resolved_days_ago=91)
    old_ignored = _delivery("ignored", 91)
    recent_processed = _delivery("processed", 89, resolved_days_ago=89)
    recent_ignored = _delivery("ignored", 10)
    unresolved = {_delivery(status, 400) for status in ("failed", "rejected", "received")}

    result = deliveries_prune(days=90, now=NOW)

    assert result.deleted == 2
    assert result.kept_unresolved == 3
    remaining = _remaining()
    assert old_processed not in remaining
    assert old_ignored not in remaining
    assert {recent_processed, recent_ignored} | unresolved <= remaining


def test_boundary_day():
    exactly = _delivery("processed", 90, resolved_days_ago=90)
    just_past = DeliveryFactory(
        status="processed", received_at=NOW - 90 * DAY - timedelta(seconds=1)
    ).pk

    deliveries_prune(days=90, now=NOW)

    assert _remaining() == {exactly}
    assert just_past not in _remaining()


def test_a_failed_delivery_resolved_later_is_kept_for_the_period_after_resolution():
    # Received long ago, failed, replayed and processed 10 days ago: kept 80 more days.
    resolved_recently = _delivery("processed", 200, resolved_days_ago=10)
    resolved_long_ago = _delivery("processed", 300, resolved_days_ago=120)
    still_failed = _delivery("failed", 300)

    deliveries_prune(days=90, now=NOW)

    assert _remaining() == {resolved_recently, still_failed}
    assert resolved_long_ago not in _remaining()


def test_uses_the_setting_by_default(settings):
    settings.WEBHOOK_RETENTION_DAYS = 5
    old = _delivery("processed", 6)
    young = _delivery("processed", 4)

    deliveries_prune(now=NOW)

    assert _remaining() == {young}
    assert old not in _remaining()


def test_deletes_in_bounded_batches():
    endpoint = EndpointFactory()
    for _ in range(7):
        DeliveryFactory(endpoint=endpoint, received_at=NOW - 100 * DAY)
    keep = _delivery("processed", 1)

    with CaptureQueriesContext(connection) as queries:
        result = deliveries_prune(days=90, batch_size=3, now=NOW)

    table = WebhookDelivery._meta.db_table
    deletes = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'DELETE FROM "{table}"')
    ]
    assert (result.deleted, result.batches) == (7, 3)
    assert len(deletes) == 3
    assert _remaining() == {keep}


def test_a_pruned_deliverys_other_bodies_go_with_it():
    delivery = DeliveryFactory(received_at=NOW - 100 * DAY)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        outcome=DeliveryAttempt.Outcome.LATE,
        recorded_at=NOW - 100 * DAY,
        status="processed",
        method="POST",
        body="{}",
    )

    result = deliveries_prune(days=90, now=NOW)

    assert result.deleted == 1  # deliveries, not the rows that went with them
    assert not DeliveryAttempt.objects.exists()


def test_dry_run_counts_and_deletes_nothing():
    ids = {_delivery("processed", 100), _delivery("ignored", 100), _delivery("failed", 100)}

    result = deliveries_prune(days=90, dry_run=True, now=NOW)

    assert (result.deleted, result.kept_unresolved) == (2, 1)
    assert _remaining() == ids


def test_nothing_references_deliveries_with_a_protecting_foreign_key():
    related = [
        rel
        for rel in WebhookDelivery._meta.related_objects
        if rel.on_delete in (models.PROTECT, models.RESTRICT)
    ]
    assert related == []


def test_audit_entries_of_a_pruned_delivery_stay():
    delivery = DeliveryFactory(received_at=NOW - 100 * DAY)
    entry = AuditEntryFactory(
        action="replay",
        content_type=ContentType.objects.get_for_model(WebhookDelivery),
        object_id=str(delivery.pk),
        object_repr=str(delivery),
    )

    deliveries_prune(days=90, now=NOW)

    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == str(delivery)


def test_the_mirror_keeps_the_payload():
    lead = LeadFactory(payload={"id": 7, "email": "a@example.com"})
    DeliveryFactory(received_at=NOW - 100 * DAY)

    deliveries_prune(days=90, now=NOW)

    lead.refresh_from_db()
    assert lead.payload == {"id": 7, "email": "a@example.com"}


def test_command_prints_counts_and_honours_dry_run():
    old = DeliveryFactory(received_at=timezone.now() - 100 * DAY).pk
    out = StringIO()

    call_command("prune_webhooks", "--dry-run", "--days=90", stdout=out)
    assert "Would delete 1 deliveries" in out.getvalue()
    assert old in _remaining()

    out = StringIO()
    call_command("prune_webhooks", "--batch-size=1", stdout=out)
    assert "Deleted 1 deliveries" in out.getvalue()
    assert "in 1 batches" in out.getvalue()
    assert old not in _remaining()


def test_command_refuses_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("prune_webhooks", "--batch-size=0")
