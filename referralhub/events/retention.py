"""Retention of events out: what was delivered goes after `EVENTS_RETENTION_DAYS`, with the same
rules as the inbox's (`webhooks.retention`).

- A delivery that succeeded, made before the cutoff and whose last attempt (the success) was
  before it too, goes with its attempts: a delivery that failed and was replayed to success is
  kept for the period counted from that success.
- A failed delivery stays until it is resolved (a replay that succeeds), and a pending one until
  it is sent: those still need someone, or the sender.
- An event goes once it is older than the cutoff, fanned out and has no delivery left.

Locks: ids are read without locks, a batch at a time in primary key order, then deleted by
primary key in short transactions of at most `batch_size` rows, the conditions applied again. The
sender only writes pending deliveries and their attempts, the webhook path only inserts events,
and neither is ever deleted here, so neither waits on a prune.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from referralhub.models.events import Event, EventDelivery

DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class EventsPruneResult:
    cutoff: datetime
    deliveries: int
    events: int
    batches: int
    kept_unresolved: int


def events_cutoff(*, days: int | None = None, now: datetime | None = None) -> datetime:
    days = settings.EVENTS_RETENTION_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=days)


def prunable_deliveries(cutoff: datetime) -> QuerySet[EventDelivery]:
    return EventDelivery.objects.filter(
        status=EventDelivery.Status.SUCCEEDED, created__lt=cutoff, last_attempt_at__lt=cutoff
    )


def prunable_events(cutoff: datetime) -> QuerySet[Event]:
    return Event.objects.filter(created__lt=cutoff, fanned_out=True).exclude(
        Exists(EventDelivery.objects.filter(event=OuterRef("pk")))
    )


def unresolved_before(cutoff: datetime) -> int:
    """Failed and pending deliveries made before the cutoff: kept until resolved."""
    return (
        EventDelivery.objects.filter(created__lt=cutoff)
        .exclude(status=EventDelivery.Status.SUCCEEDED)
        .count()
    )


def events_prune(
    *,
    days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
) -> EventsPruneResult:
    """Delete delivered events past retention in batches; with `dry_run`, only count them."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = events_cutoff(days=days, now=now)
    kept = unresolved_before(cutoff)
    if dry_run:
        # The events whose deliveries would all go.
        staying = EventDelivery.objects.filter(event=OuterRef("pk")).exclude(
            status=EventDelivery.Status.SUCCEEDED, created__lt=cutoff, last_attempt_at__lt=cutoff
        )
        old = Event.objects.filter(created__lt=cutoff, fanned_out=True)
        return EventsPruneResult(
            cutoff,
            prunable_deliveries(cutoff).count(),
            old.exclude(Exists(staying)).count(),
            0,
            kept,
        )
    old_deliveries = EventDelivery.objects.filter(created__lt=cutoff)
    deliveries, delivery_batches = _delete_in_batches(
        prunable_deliveries(cutoff), _highest(old_deliveries), batch_size
    )
    old_events = Event.objects.filter(created__lt=cutoff)
    events_deleted, event_batches = _delete_in_batches(
        prunable_events(cutoff), _highest(old_events), batch_size
    )
    return EventsPruneResult(
        cutoff, deliveries, events_deleted, delivery_batches + event_batches, kept
    )


def _highest(old: QuerySet) -> int:
    """The highest primary key of the rows made before the cutoff (0: none)."""
    return old.aggregate(highest=Max("pk"))["highest"] or 0


def _delete_in_batches(prunable: QuerySet, highest: int, batch_size: int) -> tuple[int, int]:
    """(rows of `prunable`'s model deleted, batches). Walks the primary key upwards to `highest`,
    so that the rows kept are read once, not again by every batch, and recent rows never."""
    model: type[models.Model] = prunable.model
    deleted = batches = 0
    after = 0
    while True:
        window = prunable.filter(pk__gt=after, pk__lte=highest).order_by("pk")
        ids = list(window.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        # The rows that refer to these (a delivery's attempts) go in the same statement's
        # transaction: Django deletes them with one DELETE, then these with another.
        with transaction.atomic():
            _, per_model = prunable.filter(pk__in=ids).delete()
        deleted += per_model.get(model._meta.label, 0)
        batches += 1
        after = ids[-1]
        if len(ids) < batch_size:
            break
    return deleted, batches
