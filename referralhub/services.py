"""Staff actions on rewards: the one implementation that the dashboard, the admin and the API call.

Each function checks the actor's permission, locks the rewards it changes, refuses the whole batch
if any transition is not allowed (all or nothing, with a reason per id), then writes the change and
its audit trail in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeGuard

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from referralhub.background import enqueue
from referralhub.events.emit import emit
from referralhub.models import AuditEntry, EventType, Reward
from referralhub.payouts.selectors import attach_payout_batches, payout_batch_of
from webhooks.models import CommissionPush, ImportRun, WebhookEndpoint
from webhooks.providers.firstpromoter import pull, push

Action = Literal["approve", "deny", "fulfil", "reopen"]

PERMISSIONS: dict[Action, str] = {
    "approve": "referralhub.approve_reward",
    "deny": "referralhub.approve_reward",
    "fulfil": "referralhub.fulfil_reward",
    "reopen": "referralhub.approve_reward",
}
MAX_BULK = 100
# Reopening has no event: the catalogue has no type for a decision taken back, and the reward's
# next approval or denial is announced as usual.
EVENTS: dict[Action, str] = {
    "approve": EventType.REWARD_APPROVED,
    "deny": EventType.REWARD_DENIED,
    "fulfil": EventType.REWARD_FULFILLED,
}
# The actions that need a reason: it is kept in the reward's history.
REASON_REQUIRED: frozenset[Action] = frozenset({"deny", "reopen"})


class RewardNotFound(Exception):
    def __init__(self, missing: Sequence[int]) -> None:
        self.missing = list(missing)
        super().__init__(f"No reward with id {', '.join(map(str, self.missing))}.")


class TransitionNotAllowed(Exception):
    """At least one reward cannot make the transition; `errors` says why, per reward id."""

    def __init__(self, errors: dict[int, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"reward {pk}: {msg}" for pk, msg in errors.items()))


@dataclass(frozen=True)
class _Transition:
    refuse: Callable[[Reward], str | None]
    apply: Callable[[Reward, User, str], None]
    fields: tuple[str, ...]


def _refuse_decision(reward: Reward, *, reopening: bool = False) -> str | None:
    """Why the hub's decision on `reward` cannot change now, or None: approving and denying take
    a pending reward, reopening a decided one, and none of them a reward paid or being paid."""
    if reward.date_paid is not None:
        return "already paid"
    # A reward being paid, or paid, keeps its decision: release it from its batch first.
    if (batch_id := payout_batch_of(reward)) is not None:
        return f"in payout batch #{batch_id}"
    if reopening:
        return "already pending" if reward.status == Reward.Status.PENDING else None
    if reward.status != Reward.Status.PENDING:
        return f"already {reward.status}"
    return None


def _refuse_reopening(reward: Reward) -> str | None:
    if reward.fulfilment == Reward.Fulfilment.FULFILLED:
        return "already fulfilled"
    return _refuse_decision(reward, reopening=True)


def _refuse_fulfilment(reward: Reward) -> str | None:
    if reward.fulfilment == Reward.Fulfilment.FULFILLED:
        return "already fulfilled"
    if reward.status == Reward.Status.DENIED:
        return "denied rewards cannot be fulfilled"
    if reward.status != Reward.Status.APPROVED:
        return "approve it before fulfilling it"
    return None


def _decide(status: str) -> Callable[[Reward, User, str], None]:
    def apply(reward: Reward, actor: User, text: str) -> None:
        reward.status = status
        reward.decided_at = timezone.now()
        reward.decided_by = actor
        reward.decision_reason = text

    return apply


def _approve(reward: Reward, actor: User, text: str) -> None:
    _decide(Reward.Status.APPROVED)(reward, actor, text)
    # A later ask from the provider counts against the same queue entry.
    if reward.joins_fulfilment_queue:
        reward.queue_for_fulfilment(reward.decided_at or timezone.now())


def _reopen(reward: Reward, actor: User, text: str) -> None:
    # Still a person's decision (decided_by stays set): a provider's later word does not decide
    # a reopened reward, staff do, from the approvals queue.
    _decide(Reward.Status.PENDING)(reward, actor, text)
    # Out of the fulfilment queue its approval put it in, unless the provider asked for it.
    if reward.fulfilment == Reward.Fulfilment.PENDING and not reward.fulfilment_request_count:
        reward.fulfilment = Reward.Fulfilment.NOT_REQUESTED
        reward.fulfilment_requested_at = None


def _fulfil(reward: Reward, actor: User, text: str) -> None:
    reward.fulfilment = Reward.Fulfilment.FULFILLED
    reward.fulfilled_at = timezone.now()
    reward.fulfilled_by = actor
    reward.fulfilment_note = text


_DECISION_FIELDS = ("status", "decided_at", "decided_by", "decision_reason")
TRANSITIONS: dict[Action, _Transition] = {
    "approve": _Transition(
        _refuse_decision,
        _approve,
        (*_DECISION_FIELDS, "fulfilment", "fulfilment_requested_at"),
    ),
    "deny": _Transition(_refuse_decision, _decide(Reward.Status.DENIED), _DECISION_FIELDS),
    "fulfil": _Transition(
        _refuse_fulfilment,
        _fulfil,
        ("fulfilment", "fulfilled_at", "fulfilled_by", "fulfilment_note"),
    ),
    "reopen": _Transition(
        _refuse_reopening,
        _reopen,
        (*_DECISION_FIELDS, "fulfilment", "fulfilment_requested_at"),
    ),
}


def can_act(user: User | AnonymousUser, action: Action) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(PERMISSIONS[action]))


def refusal_reason(reward: Reward, action: Action) -> str | None:
    """Why `action` is not allowed on `reward` now, or None when it is (for showing buttons)."""
    return TRANSITIONS[action].refuse(reward)


@transaction.atomic
def rewards_act(
    *, action: Action, reward_ids: Iterable[int], actor: User | AnonymousUser, text: str = ""
) -> list[Reward]:
    """Apply `action` to every reward in `reward_ids`, or to none of them.

    `text` is the reason (required to deny) or the note. Raises PermissionDenied, RewardNotFound,
    TransitionNotAllowed or ValueError; nothing is written unless every reward can make the move.
    """
    if action not in TRANSITIONS:
        raise ValueError(f"Unknown action {action!r}.")
    if not can_act(actor, action):
        raise PermissionDenied(f"You do not have permission to {action} rewards.")
    text = text.strip()
    if action in REASON_REQUIRED and not text:
        raise ValueError(f"A reason is required to {action} a reward.")
    ids = sorted(set(reward_ids))
    if not 1 <= len(ids) <= MAX_BULK:
        raise ValueError(f"Give between 1 and {MAX_BULK} distinct reward ids.")

    # Locked in id order so that two staff acting on overlapping batches cannot deadlock.
    rewards = list(Reward.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    # Read once the locks are held: a batch being created locks its rewards, so this waits for
    # it and then sees it (a subquery in the locking SELECT would read the older snapshot).
    attach_payout_batches(rewards)
    if missing := sorted(set(ids) - {r.pk for r in rewards}):
        raise RewardNotFound(missing)
    transition = TRANSITIONS[action]
    errors = {r.pk: reason for r in rewards if (reason := transition.refuse(r))}
    if errors:
        raise TransitionNotAllowed(errors)
    _apply(action, rewards, actor, text)
    return rewards


@transaction.atomic
def rewards_approve_still_pending(
    *, reward_ids: Sequence[int], actor: User | AnonymousUser, text: str = ""
) -> tuple[list[int], list[int]]:
    """Approve those of `reward_ids` that may still be approved, by the same rules and with the
    same side effects as `rewards_act`, and skip the others (decided since, paid, or gone):
    a bulk approval's chunk. Returns (approved ids, skipped ids)."""
    if not can_act(actor, "approve"):
        raise PermissionDenied("You do not have permission to approve rewards.")
    locked = list(Reward.objects.select_for_update().filter(pk__in=reward_ids).order_by("pk"))
    attach_payout_batches(locked)  # as in rewards_act: read once the locks are held
    rewards = [r for r in locked if refusal_reason(r, "approve") is None]
    if rewards:
        _apply("approve", rewards, actor, text.strip())
    approved = {r.pk for r in rewards}
    return sorted(approved), [pk for pk in reward_ids if pk not in approved]


def _apply(action: Action, rewards: list[Reward], actor: User, text: str) -> None:
    """Make the move on locked rewards that may make it: the change, its audit entries, the
    FirstPromoter push and the event, a fixed number of statements however many rewards."""
    transition = TRANSITIONS[action]
    entries = []
    for reward in rewards:
        before = {f: _plain(getattr(reward, f)) for f in transition.fields}
        transition.apply(reward, actor, text)
        reward.updated = timezone.now()  # bulk_update skips auto_now
        after = {f: _plain(getattr(reward, f)) for f in transition.fields}
        changes = {f: [before[f], after[f]] for f in transition.fields if before[f] != after[f]}
        entries.append(_audit_entry(actor, action, reward, changes, text))
    Reward.objects.bulk_update(rewards, [*transition.fields, "updated"])
    _record(actor, entries)
    # FirstPromoter's API hears of it once this transaction commits, never if it rolls back.
    push.queue_decision(action, rewards)
    if event_type := EVENTS.get(action):
        emit(event_type, Reward, [r.pk for r in rewards])


_DONE: dict[Action, str] = {
    "approve": "Approved {}",
    "deny": "Denied {}",
    "fulfil": "Marked {} fulfilled",
    "reopen": "Reopened {}: pending again",
}


def done_message(
    action: Action,
    rewards: Sequence[Reward],
    text: str = "",
    label: Callable[[Reward], str] = lambda reward: f"#{reward.pk}",
) -> str:
    """What staff are told once `rewards_act` has done `action`, in the dashboard and the admin
    alike: what changed, and after a fulfilment what each provider learns of it."""

    def listed(some: Sequence[Reward], shown: int = 10) -> str:
        return ", ".join(map(label, some[:shown])) + ("…" if len(some) > shown else "")

    count = f"{len(rewards)} reward{'' if len(rewards) == 1 else 's'}"
    message = f"{_DONE[action].format(count)} ({listed(rewards)})"
    if text:
        message += f" — “{text}”"
    message += "."
    if action == "approve" and (
        queued := [r for r in rewards if r.fulfilment == Reward.Fulfilment.PENDING]
    ):
        message += f" Waiting in the fulfilment queue: {listed(queued)}."
    if told := _told(action, rewards):
        message += f" FirstPromoter is told through its API: {listed(told)}."
    if action == "reopen":
        for provider, some in _by_provider(rewards).items():
            message += f" {provider} is not told: set {listed(some)} back to pending there too."
    if action != "fulfil":
        return message
    if any(r.provider_asks_fulfilment and r.needs_delivery for r in rewards):
        message += " The provider's next fulfilment request will be answered 200."
    for provider, told in _not_told(rewards).items():
        message += f" {provider} is not told: mark {listed(told)} fulfilled in {provider} too."
    return message


def _told(action: Action, rewards: Sequence[Reward]) -> list[Reward]:
    """The rewards whose `action` FirstPromoter's API is told of."""
    if not any(push.is_pushed(r, action) for r in rewards):
        return []
    told = set(
        CommissionPush.objects.filter(reward__in=rewards, action=push.ACTIONS[action]).values_list(
            "reward_id", flat=True
        )
    )
    return [r for r in rewards if r.pk in told]


def _by_provider(rewards: Sequence[Reward]) -> dict[str, list[Reward]]:
    by_provider: dict[str, list[Reward]] = {}
    for reward in rewards:
        by_provider.setdefault(reward.get_provider_display(), []).append(reward)
    return by_provider


def _not_told(rewards: Sequence[Reward]) -> dict[str, list[Reward]]:
    """The rewards whose provider the hub does not tell of a fulfilment, by provider name."""
    told = {r.pk for r in _told("fulfil", rewards)}
    by_provider: dict[str, list[Reward]] = {}
    for reward in rewards:
        if reward.mark_fulfilled_at_provider and reward.pk not in told:
            by_provider.setdefault(reward.get_provider_display(), []).append(reward)
    return by_provider


def reward_approve(*, reward: Reward, actor: User, note: str = "") -> Reward:
    return rewards_act(action="approve", reward_ids=[reward.pk], actor=actor, text=note)[0]


def reward_deny(*, reward: Reward, actor: User, reason: str) -> Reward:
    return rewards_act(action="deny", reward_ids=[reward.pk], actor=actor, text=reason)[0]


def reward_fulfil(*, reward: Reward, actor: User, note: str = "") -> Reward:
    return rewards_act(action="fulfil", reward_ids=[reward.pk], actor=actor, text=note)[0]


def reward_reopen(*, reward: Reward, actor: User, reason: str) -> Reward:
    return rewards_act(action="reopen", reward_ids=[reward.pk], actor=actor, text=reason)[0]


RETRY_PERMISSIONS: dict[str, Action] = {
    CommissionPush.Action.APPROVE: "approve",
    CommissionPush.Action.DENY: "deny",
    CommissionPush.Action.MARK_FULFILLED: "fulfil",
}


@transaction.atomic
def commission_pushes_retry(*, push_ids: Iterable[int], actor: User) -> int:
    """Send failed FirstPromoter pushes again (staff's retry button); each needs the permission
    of the decision it carries. Returns how many were put back in the queue."""
    rows = list(
        CommissionPush.objects.select_for_update()
        .filter(pk__in=set(push_ids), state=CommissionPush.State.FAILED)
        .select_related("reward")
        .order_by("pk")
    )
    if any(not can_act(actor, RETRY_PERMISSIONS[row.action]) for row in rows):
        raise PermissionDenied("You do not have permission to send these decisions again.")
    push.pushes_retry(rows)
    _record(
        actor,
        [
            _audit_entry(
                actor,
                "retry_push",
                row.reward,
                {"firstpromoter": [row.state, CommissionPush.State.PENDING]},
                f"{row.get_action_display()}: {row.error}"[:2000],
            )
            for row in rows
        ],
    )
    return len(rows)


IMPORT_PERMISSION = "webhooks.start_import"


def provider_import_start(
    *, endpoint: WebhookEndpoint, resources: Sequence[str], since: date | None, actor: User
) -> ImportRun:
    """Start (or resume) importing FirstPromoter's history in the background."""
    if not (actor.is_active and actor.is_staff and actor.has_perm(IMPORT_PERMISSION)):
        raise PermissionDenied("You do not have permission to start an import.")
    with transaction.atomic():
        run = pull.import_start(
            endpoint=endpoint, resources=tuple(resources), since=since, actor=actor
        )
        ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.QUEUED, error="")
        enqueue(pull.import_history, run.pk)
        audit(actor=actor, action="start_import", obj=run, note=", ".join(run.resources))
    return run


def audit(
    *, actor: User, action: str, obj: models.Model, note: str = "", changes=None
) -> AuditEntry:
    """Record a staff action on any object (delivery replays use this too)."""
    entry = _audit_entry(actor, action, obj, changes or {}, note)
    _record(actor, [entry])
    return entry


def _audit_entry(
    actor: User, action: str, obj: models.Model, changes: dict, note: str
) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=changes,
        note=note,
    )


def _record(actor: User, entries: list[AuditEntry]) -> None:
    AuditEntry.objects.bulk_create(entries)
    # The admin's History page reads LogEntry: the same actions appear there.
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=actor.pk,
            content_type_id=e.content_type_id,
            object_id=e.object_id,
            object_repr=e.object_repr,
            action_flag=CHANGE,
            change_message=_change_message(e),
        )
        for e in entries
    )


def _change_message(entry: AuditEntry) -> str:
    message = f"{entry.action.capitalize()}"
    if shown := entry.changes_shown:  # as the dashboard shows them: local time, "—" for none
        message += " (" + ", ".join(f"{f}: {a} → {b}" for f, a, b in shown) + ")"
    if entry.note:
        message += f": {entry.note}"
    return message[:2000]


def _plain(value: object) -> object:
    """A JSON-friendly version of a field value for the audit trail."""
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
