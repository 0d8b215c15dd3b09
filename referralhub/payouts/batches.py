"""Staff actions on payout batches: create, mark paid, cancel, reverse.

- Create: the approved rewards the filters select, in no open or paid batch, without a warning,
  plus the warned ones staff chose one by one. One `INSERT … SELECT`, compiled from the queryset,
  locks the rewards (`FOR UPDATE`, in id order) and writes their items: a denial waits for the
  batch and then sees it, and the rewards never come into Python, however many.
- Two batches taking the same reward at the same moment: the partial unique constraint on active
  items refuses the second insert; its whole batch rolls back and `BatchConflict` says so, so that
  nobody confirms totals they did not preview.
- Mark paid (optionally leaving some rewards out, which go back to unpaid), cancel an open batch,
  reverse a paid one with a reason: each locks the batch row, checks its state, and writes the
  change and its audit entry in one transaction. Marking paid emits `reward.paid` per reward.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from referralhub.events.emit import emit
from referralhub.models import EventType, PayoutBatch, PayoutItem, Reward
from referralhub.payouts import selectors
from referralhub.payouts.selectors import BatchFilters
from referralhub.services import audit

ADD_PERMISSION = "referralhub.add_payoutbatch"
PAY_PERMISSION = "referralhub.pay_payoutbatch"
CHUNK = 2000
# Warned rewards staff may include by hand in one batch: each is a choice someone read.
MAX_INCLUDED = 1000


class BatchConflict(Exception):
    """Someone else batched some of these rewards at the same moment: nothing was created."""


class BatchRefused(Exception):
    """The request cannot be carried out as asked (`errors`: why, per reward id when it applies)."""

    def __init__(self, message: str, errors: dict[int, str] | None = None) -> None:
        self.errors = errors or {}
        super().__init__(message)


def can_create(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(ADD_PERMISSION))


def can_pay(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(PAY_PERMISSION))


def payout_batch_create(
    *,
    actor: User | AnonymousUser,
    filters: BatchFilters,
    include: Collection[int] = (),
    grouping: str = PayoutBatch.Grouping.REWARD,
) -> PayoutBatch:
    """A new open batch of the rewards `filters` select, plus the warned rewards in `include`.

    Raises PermissionDenied, BatchRefused (an included reward is not a candidate or cannot be
    paid; nothing to pay) or BatchConflict (lost a race: try again from a fresh preview).
    """
    if not can_create(actor):
        raise PermissionDenied("You do not have permission to create payout batches.")
    if len(include) > MAX_INCLUDED:
        raise BatchRefused(f"Include at most {MAX_INCLUDED} warned rewards by hand.")
    try:
        with transaction.atomic():
            return _create(actor, filters, set(include), grouping)
    except IntegrityError as exc:
        raise BatchConflict(
            "Someone batched some of these rewards at the same moment; nothing was created. "
            "Preview again: the rewards now in their batch are left out."
        ) from exc


def _create(actor: User, filters: BatchFilters, include: set[int], grouping: str) -> PayoutBatch:
    rewards = selectors.candidates(filters)
    _check_included(rewards, include)
    batch = PayoutBatch.objects.create(
        created_by=actor, filters=filters.as_json(), grouping=grouping
    )
    chosen = rewards.filter(~selectors.any_warning() | Q(pk__in=include))
    warned = _codes_of(rewards, include)  # read before the insert takes them out of `rewards`
    count = _insert_items(batch, chosen)
    for codes, ids in warned.items():
        batch.items.filter(reward_id__in=ids).update(warnings=list(codes))
    if not count:
        raise BatchRefused("No approved, unpaid rewards to pay with these filters.")
    totals = ", ".join(t.display for t in selectors.batch_totals(batch))
    audit(
        actor=actor,
        action="create_payout",
        obj=batch,
        changes={"rewards": [None, count]},
        note=f"{totals}; included with warnings: {_ids(include) or 'none'}",
    )
    return batch


def _check_included(rewards: Any, include: set[int]) -> None:
    if not include:
        return
    found = {w.reward_id: w for w in selectors.warned_rewards(rewards.filter(pk__in=include))}
    errors = {}
    for pk in sorted(include):
        warned = found.get(pk)
        if warned is None:
            errors[pk] = "not a warned reward of this batch (no warning, or not approved, or in "
            errors[pk] += "another batch, or outside the filters)"
        elif warned.blocking:
            errors[pk] = "cannot be paid: " + "; ".join(warned.texts)
    if errors:
        raise BatchRefused("Some rewards cannot be included.", errors)


def _codes_of(rewards: Any, include: set[int]) -> dict[tuple[str, ...], list[int]]:
    """The included warned rewards, by the warnings they carry."""
    grouped: dict[tuple[str, ...], list[int]] = {}
    if include:
        warned = selectors.warned_rewards(rewards.filter(pk__in=include), limit=MAX_INCLUDED)
        for reward in warned:
            grouped.setdefault(reward.codes, []).append(reward.reward_id)
    return grouped


def _insert_items(batch: PayoutBatch, chosen: QuerySet[Reward]) -> int:
    """One item per reward of `chosen`, in one `INSERT … SELECT` built from the queryset itself:
    the rewards never come into Python, and the statement locks them (not the promoters and
    leads their payout email is read from) in id order, so that two batches over the same rewards
    wait for each other instead of deadlocking, then the second fails on the constraint."""
    # The rewards alone in the outer query: FOR UPDATE cannot lock the nullable side of the
    # outer joins the payout email needs, and a values() query cannot name the table to lock.
    rows = (
        Reward.objects.filter(pk__in=chosen.values("pk"))
        .select_for_update()
        .order_by("pk")
        .values(
            item_reward=F("pk"),
            item_amount=F("amount"),
            item_unit=F("unit"),
            item_currency=Upper("currency"),
        )
    )
    select, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(PayoutItem._meta.db_table)
    with connection.cursor() as cursor:
        # Only the table's name and Django's own compiled SELECT are formatted in; every value
        # is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (batch_id, reward_id, amount, unit, currency, state, warnings)"  # noqa: S608
            " SELECT %s, item_reward, item_amount, item_unit, item_currency, %s, %s"
            f" FROM ({select}) chosen",
            (batch.pk, PayoutItem.State.ACTIVE, "[]", *params),
        )
        return cursor.rowcount


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(f"#{pk}" for pk in sorted(ids))


def _locked(batch: PayoutBatch) -> PayoutBatch:
    return PayoutBatch.objects.select_for_update().get(pk=batch.pk)


@transaction.atomic
def payout_batch_mark_paid(
    *,
    batch: PayoutBatch,
    actor: User | AnonymousUser,
    exclude: Collection[int] = (),
    note: str = "",
) -> PayoutBatch:
    """Record the open batch as paid, without the rewards in `exclude` (back to unpaid)."""
    if not can_pay(actor):
        raise PermissionDenied("You do not have permission to mark payout batches paid.")
    batch = _locked(batch)
    if batch.status != PayoutBatch.Status.OPEN:
        raise BatchRefused(f"Only an open batch can be marked paid; this one is {batch.status}.")
    active = batch.items.filter(state=PayoutItem.State.ACTIVE)
    exclude = set(exclude)
    held = set(active.filter(reward_id__in=exclude).values_list("reward_id", flat=True))
    if unknown := exclude - held:
        raise BatchRefused(
            "Some rewards are not in this batch.", {pk: "not in this batch" for pk in unknown}
        )
    if held and not active.exclude(reward_id__in=held).exists():
        raise BatchRefused("Nothing would be left to pay: cancel the batch instead.")
    active.filter(reward_id__in=held).update(state=PayoutItem.State.EXCLUDED)
    batch.status = PayoutBatch.Status.PAID
    batch.paid_at = timezone.now()
    batch.paid_by = actor
    batch.save(update_fields=["status", "paid_at", "paid_by"])
    totals = ", ".join(t.display for t in selectors.batch_totals(batch))
    audit(
        actor=actor,
        action="mark_payout_paid",
        obj=batch,
        changes={"status": [PayoutBatch.Status.OPEN, PayoutBatch.Status.PAID]},
        note=f"{totals}; left out, back to unpaid: {_ids(held) or 'none'}. {note}".strip(),
    )
    for chunk in selectors.active_ids(batch, CHUNK):
        emit(EventType.REWARD_PAID, Reward, chunk)
    return batch


@transaction.atomic
def payout_batch_cancel(
    *, batch: PayoutBatch, actor: User | AnonymousUser, reason: str
) -> PayoutBatch:
    """Give up an open batch: its rewards go back to unpaid."""
    return _close(batch, actor, reason, "cancel", PayoutBatch.Status.OPEN)


@transaction.atomic
def payout_batch_reverse(
    *, batch: PayoutBatch, actor: User | AnonymousUser, reason: str
) -> PayoutBatch:
    """Undo a paid batch (the payment bounced, or was never sent): a recorded correction that
    puts its rewards back to unpaid. The batch itself keeps what it held, for the record."""
    return _close(batch, actor, reason, "reverse", PayoutBatch.Status.PAID)


_A: dict[str, str] = {PayoutBatch.Status.OPEN: "an open", PayoutBatch.Status.PAID: "a paid"}
_CLOSED = {"cancel": PayoutBatch.Status.CANCELLED, "reverse": PayoutBatch.Status.REVERSED}


def _close(
    batch: PayoutBatch, actor: User | AnonymousUser, reason: str, action: str, before: str
) -> PayoutBatch:
    after = _CLOSED[action]
    if not can_pay(actor):
        raise PermissionDenied("You do not have permission to cancel or reverse payout batches.")
    reason = reason.strip()
    if not reason:
        raise BatchRefused("A reason is required.")
    batch = _locked(batch)
    if batch.status != before:
        raise BatchRefused(f"Only {_A[before]} batch can be {after}; this one is {batch.status}.")
    released = batch.items.filter(state=PayoutItem.State.ACTIVE).update(
        state=PayoutItem.State.RELEASED
    )
    batch.status = after
    batch.closed_at = timezone.now()
    batch.closed_by = actor
    batch.close_reason = reason
    batch.save(update_fields=["status", "closed_at", "closed_by", "close_reason"])
    audit(
        actor=actor,
        action=f"{action}_payout",
        obj=batch,
        changes={"status": [before, after], "rewards back to unpaid": [None, released]},
        note=reason,
    )
    return batch
