"""Retention of the inbox: raw bodies are kept for `WEBHOOK_RETENTION_DAYS`, then dropped.

The mirrored rows keep each provider's last payload (`referralhub.models.base`, field `payload`),
so pruning the inbox loses nothing of the mirror. What goes:

- processed and ignored deliveries received before the cutoff, and also resolved before it: a
  failed or rejected delivery that a replay (or the provider's retry) processed later is kept for
  the retention period counted from that resolution (`processed_at`);
- never a failed, rejected or received (unfinished) one: those still need someone.

Locks: ids are selected without locks (a plain SELECT), then deleted by primary key in short
transactions of at most `batch_size` rows. The webhook path inserts new rows and updates only the
delivery it is handling; a delete touches old, final rows only, so the most the webhook path can
wait on is one short batch, when a provider re-sends a delivery being pruned at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from webhooks.models import WebhookDelivery

DEFAULT_BATCH_SIZE = 1000
PRUNABLE = (WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED)


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    deleted: int
    batches: int
    kept_unresolved: int


def retention_cutoff(*, days: int | None = None, now: datetime | None = None) -> datetime:
    days = settings.WEBHOOK_RETENTION_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=days)


def prunable_deliveries(cutoff: datetime) -> QuerySet[WebhookDelivery]:
    """Deliveries past retention. Re-applied in each DELETE, so that a delivery reopened by a
    replay between the SELECT and the DELETE is not dropped."""
    return WebhookDelivery.objects.filter(
        Q(processed_at__isnull=True) | Q(processed_at__lt=cutoff),
        status__in=PRUNABLE,
        received_at__lt=cutoff,
    )


def unresolved_before(cutoff: datetime) -> int:
    """Failed, rejected and unfinished deliveries older than the cutoff: kept until resolved."""
    return (
        WebhookDelivery.objects.filter(received_at__lt=cutoff).exclude(status__in=PRUNABLE).count()
    )


def deliveries_prune(
    *,
    days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneResult:
    """Delete deliveries past retention in batches; with `dry_run`, only count them."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = retention_cutoff(days=days, now=now)
    kept = unresolved_before(cutoff)
    prunable = prunable_deliveries(cutoff)
    if dry_run:
        return PruneResult(cutoff=cutoff, deleted=prunable.count(), batches=0, kept_unresolved=kept)
    deleted = batches = 0
    while True:
        ids = list(prunable.order_by("received_at", "id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        # Only a delivery's other attempts reference it by foreign key (the audit trail is
        # generic and keeps its own description of the object): Django deletes a batch with one
        # DELETE for them and one for the deliveries.
        with transaction.atomic():
            _, per_model = prunable.filter(id__in=ids).delete()
        deleted += per_model.get(WebhookDelivery._meta.label, 0)
        batches += 1
        if len(ids) < batch_size:
            break
    return PruneResult(cutoff=cutoff, deleted=deleted, batches=batches, kept_unresolved=kept)
