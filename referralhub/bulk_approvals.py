"""Approving every pending reward a filter matches, across pages, in the background.

- Confirmation counts the matching rewards and shows N and what they add up to, with a
  fingerprint of their ids; starting checks the fingerprint again, so what is approved is exactly
  what staff confirmed (a queue that changed in between is shown again, never approved blind).
- The work is in the `BulkApproval` row: its ids and a position. Each chunk is one transaction
  that locks the row, approves the chunk's rewards that are still pending through the same
  service as a single approval (audit, FirstPromoter push, events) and moves the position on. A
  worker killed mid-chunk leaves the chunk undone, and the task, put back in the queue, resumes
  at the position: nothing is approved twice, and rewards decided in the meantime are skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django_tasks import task

from referralhub.background import enqueue
from referralhub.models import SELF_REFERRAL_SUSPICIONS, BulkApproval, Reward, format_amount
from referralhub.services import audit, can_act, rewards_approve_still_pending

logger = logging.getLogger(__name__)

CHUNK = 500  # rewards per transaction: a few statements each, whatever the size
RUN_FOR = 60.0  # seconds a task works before it hands over to a fresh one
RETRY_AFTER = timedelta(seconds=30)  # after a database error
MAX_REWARDS = 100_000  # one confirmation at most: the ids are kept in the row


class QueueChanged(Exception):
    """The matching rewards are not those staff confirmed: `preview` is what matches now."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        super().__init__("The rewards matching this filter changed since you confirmed.")


class TooMany(ValueError):
    pass


@dataclass(frozen=True)
class Preview:
    """What "approve all matching" would approve now."""

    filters: dict[str, Any]
    ids: list[int]
    totals: list[str]

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(",".join(map(str, self.ids)).encode()).hexdigest()


def pending_matching(filters: dict[str, Any]) -> QuerySet[Reward]:
    """The approvals queue's filter: the one definition of which rewards a filter matches."""
    rewards = Reward.objects.filter(status=Reward.Status.PENDING)
    if provider := filters.get("provider"):
        rewards = rewards.filter(provider=provider)
    if filters.get("suspects"):
        rewards = rewards.filter(lead__suspicion__in=SELF_REFERRAL_SUSPICIONS)
    return rewards


def preview(filters: dict[str, Any]) -> Preview:
    """Two queries, whatever the count: the ids, and the sums per unit and currency."""
    matching = pending_matching(filters)
    ids = list(matching.order_by("pk").values_list("pk", flat=True)[: MAX_REWARDS + 1])
    if len(ids) > MAX_REWARDS:
        raise TooMany(
            f"More than {MAX_REWARDS:,} rewards match: narrow the filter and approve in parts."
        )
    return Preview(filters=_plain(filters), ids=ids, totals=_totals(matching))


def _totals(rewards: QuerySet[Reward]) -> list[str]:
    sums = (
        rewards.filter(amount__isnull=False)
        .values_list("unit", "currency")
        .annotate(total=Sum("amount"))
        .order_by("unit", "currency")
    )
    return [format_amount(Decimal(total), unit, currency) for unit, currency, total in sums]


def _plain(filters: dict[str, Any]) -> dict[str, Any]:
    return {"provider": filters.get("provider") or "", "suspects": bool(filters.get("suspects"))}


def bulk_approval_start(
    *, filters: dict[str, Any], fingerprint: str, note: str, actor: User | AnonymousUser
) -> BulkApproval:
    """Record the confirmed bulk approval, audit it and queue its work, in one transaction.
    Raises PermissionDenied, QueueChanged (nothing written) or TooMany."""
    if not can_act(actor, "approve"):
        raise PermissionDenied("You do not have permission to approve rewards.")
    with transaction.atomic():
        now = preview(filters)
        if now.fingerprint != fingerprint:
            raise QueueChanged(now)
        if not now.ids:
            raise ValueError("No pending reward matches this filter.")
        bulk = BulkApproval.objects.create(
            actor=actor,
            filters=now.filters,
            note=note.strip(),
            reward_ids=now.ids,
            count=now.count,
            totals=now.totals,
        )
        audit(
            actor=actor,
            action="bulk_approve",
            obj=bulk,
            note=note.strip(),
            changes={"count": [None, now.count], "totals": [None, ", ".join(now.totals)]},
        )
        enqueue(approve_in_chunks, bulk.pk)
    return bulk


def approve_chunk(bulk_pk: int, size: int = CHUNK) -> bool:
    """Settle the next `size` rewards of the bulk approval, in one transaction; False once none
    is left (or it stopped)."""
    with transaction.atomic():
        # The row lock makes a second worker on the same bulk approval wait, then see the
        # position this one moved on. Only this row: a lock on the actor's user row would
        # deadlock with the actor's own decisions meanwhile (their audit entries refer to it).
        bulk = (
            BulkApproval.objects.select_for_update(of=("self",))
            .select_related("actor")
            .get(pk=bulk_pk)
        )
        if bulk.finished:
            return False
        chunk: Sequence[int] = bulk.reward_ids[bulk.position : bulk.position + size]
        try:
            approved, skipped = rewards_approve_still_pending(
                reward_ids=chunk, actor=bulk.actor, text=bulk.note
            )
        except PermissionDenied:
            _stop(bulk, f"{bulk.actor} may no longer approve rewards.")
            return False
        position = bulk.position + len(chunk)
        done = position >= bulk.count
        changed = BulkApproval.objects.filter(pk=bulk.pk, position=bulk.position).update(
            position=position,
            approved=bulk.approved + len(approved),
            skipped=bulk.skipped + len(skipped),
            skipped_ids=[*bulk.skipped_ids, *skipped],
            state=BulkApproval.State.DONE if done else BulkApproval.State.RUNNING,
            finished_at=timezone.now() if done else None,
            updated=timezone.now(),
        )
        if not changed:  # SQLite has no row lock: another worker settled this chunk first
            transaction.set_rollback(True)
            return True
    return not done


def _stop(bulk: BulkApproval, reason: str) -> None:
    BulkApproval.objects.filter(pk=bulk.pk).update(
        state=BulkApproval.State.FAILED, error=reason, finished_at=timezone.now()
    )
    logger.warning("Bulk approval #%s stopped: %s", bulk.pk, reason)


@task()
def approve_in_chunks(bulk_pk: int) -> None:
    """Chunks for up to RUN_FOR seconds, then a fresh task for the rest (a task put back after
    its worker died starts again at the saved position). A database error (a failover, a lost
    connection) tries again a little later; anything else stops it, saying why, rather than
    leaving it shown as running with nothing to run it."""
    stop_at = time.monotonic() + RUN_FOR
    try:
        while approve_chunk(bulk_pk):
            if time.monotonic() > stop_at:
                enqueue(approve_in_chunks, bulk_pk)
                return
    except DatabaseError as error:
        logger.warning("Bulk approval #%s waits after a database error: %s", bulk_pk, error)
        enqueue(approve_in_chunks.using(run_after=timezone.now() + RETRY_AFTER), bulk_pk)
    except Exception as error:
        bulk = BulkApproval(pk=bulk_pk)
        _stop(bulk, f"An error stopped it ({type(error).__name__}); the task's result has details.")
        raise
