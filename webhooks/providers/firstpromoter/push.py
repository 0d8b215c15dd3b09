"""Telling FirstPromoter what staff decided about its commissions, through its API.

- A staff approval, denial or fulfilment writes a `CommissionPush` row per commission, and enqueues
  the sender, in the decision's own transaction (`queue_decision`): a decision that rolls back
  sends nothing; one that commits is sent even if the process dies a moment later.
- The sender (`send_pushes`) claims up to 100 due rows of one action under a lease in the rows,
  which a second worker leaves alone and the same task, put back after its worker died, takes
  back. It makes one call, polls a batch process to its end, and writes the outcome per row.
- Network errors and 5xx are retried with exponential back-off for FIRSTPROMOTER_PUSH_RETRY_FOR; a
  429 waits its Retry-After; a refusal (422, 401, ...) fails at once with FirstPromoter's reason,
  for staff to see and retry. FirstPromoter's actions are idempotent (approving an approved
  commission leaves it approved), so a call sent again after a crash does no harm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskContext

from referralhub.alerts import raising
from referralhub.background import enqueue
from referralhub.models import Reward
from webhooks.models import CommissionPush, WebhookEndpoint
from webhooks.providers.firstpromoter.api import (
    MAX_IDS,
    Batch,
    FirstPromoterApi,
    RateLimited,
    Refused,
    Transient,
)
from webhooks.providers.firstpromoter.fields import SLUG

logger = logging.getLogger(__name__)

Action = CommissionPush.Action
State = CommissionPush.State
# The hub's action (referralhub.services) -> FirstPromoter's.
ACTIONS: dict[str, str] = {
    "approve": Action.APPROVE,
    "deny": Action.DENY,
    "fulfil": Action.MARK_FULFILLED,
}
# FirstPromoter's status after each action, read back when a batch reports failures.
RESULTING_STATUS: dict[str, str] = {Action.APPROVE: "approved", Action.DENY: "denied"}
LEASE = timedelta(minutes=5)
RUN_FOR = 60.0  # seconds a task sends before it hands over to a fresh one
POLL_DELAYS = (0.1, 0.2, 0.3, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 5.0)  # then poll from a new task
POLL_LATER = 10.0


def backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, ... doubling up to an hour between attempts."""
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def account_endpoint() -> WebhookEndpoint | None:
    """The endpoint whose API credentials the hub uses. The mirror keys commissions by
    FirstPromoter's id alone, so the hub mirrors one account: several endpoints (legacy and v2)
    may carry its credentials, but endpoints of different accounts leave the hub unable to tell
    which account a commission belongs to, and nothing is sent."""
    endpoints = list(
        WebhookEndpoint.objects.filter(provider=SLUG, is_active=True)
        .exclude(api_key="")
        .exclude(api_account_id="")
        .order_by("pk")
    )
    if len({e.api_account_id for e in endpoints}) != 1:
        if endpoints:
            logger.warning("FirstPromoter endpoints of several accounts: decisions are not sent")
        return None
    return endpoints[0]


def is_pushed(reward: Reward, action: str) -> bool:
    """Whether FirstPromoter hears of `action` on `reward` through its API. A fulfilment only for
    a reward someone delivers that FirstPromoter does not ask for: a legacy `fulfilment_pending`
    reward learns it from the 200 its next ask is answered with."""
    if reward.provider != SLUG or not reward.external_id.isdigit():
        return False
    if action == "fulfil":
        return reward.needs_delivery and not reward.provider_asks_fulfilment
    return action in ACTIONS


def queue_decision(action: str, rewards: Sequence[Reward]) -> list[Reward]:
    """Record `action` on the FirstPromoter commissions among `rewards` and enqueue the sender,
    in the caller's transaction; return the rewards FirstPromoter will be told about."""
    told = [r for r in rewards if is_pushed(r, action)]
    if not told or (endpoint := account_endpoint()) is None:
        return []
    now = timezone.now()
    # A reward decided again after staff reopened it has this action's row already: it is sent
    # afresh, from the start (a sender still holding it finds it no longer its own).
    CommissionPush.objects.bulk_create(
        (
            CommissionPush(
                reward=reward,
                endpoint=endpoint,
                action=ACTIONS[action],
                next_attempt_at=now,
                since=now,
                updated=now,
            )
            for reward in told
        ),
        update_conflicts=True,
        unique_fields=["reward", "action"],
        update_fields=[*RESTART_FIELDS],
    )
    _note_waiting([r.pk for r in told])
    enqueue(send_pushes, endpoint.pk)
    return told


# What a decision sent again starts from: the defaults of a new row.
RESTART_FIELDS = (
    "endpoint",
    "state",
    "error",
    "note",
    "attempts",
    "next_attempt_at",
    "since",
    "batch_id",
    "claimed_by",
    "claimed_until",
    "updated",
    "done_at",
)


WAITING = "Waits for its approval, which FirstPromoter did not take: send that again."


def _note_waiting(reward_pks: Sequence[int]) -> None:
    """A fulfilment is sent after its approval: while the approval has failed, say so on the
    fulfilment, which the sync page then lists beside it."""
    failed = CommissionPush.objects.filter(
        reward_id__in=reward_pks, action=Action.APPROVE, state=State.FAILED
    ).values("reward_id")
    CommissionPush.objects.filter(
        reward_id__in=failed, action=Action.MARK_FULFILLED, state=State.PENDING
    ).update(error=WAITING)


def with_sync_state(rewards: QuerySet[Reward]) -> QuerySet[Reward]:
    """Annotate each reward with `provider_sync` (None, "pending", "done" or "failed": the worst
    of its pushes), `provider_sync_error`, and `fulfilment_pushed` (its fulfilment is being or
    was told to FirstPromoter's API), in the rewards' own query."""
    worst_first = CommissionPush.objects.filter(reward=OuterRef("pk")).order_by(
        Case(
            When(state=State.FAILED, then=Value(0)),
            When(state=State.PENDING, then=Value(1)),
            default=Value(2),
        ),
        "-pk",
    )
    return rewards.annotate(
        provider_sync=Subquery(worst_first.values("state")[:1]),
        provider_sync_error=Subquery(worst_first.values("error")[:1]),
        fulfilment_pushed=Exists(
            CommissionPush.objects.filter(
                reward=OuterRef("pk"), action=Action.MARK_FULFILLED
            ).exclude(state=State.FAILED)
        ),
    )


def problems() -> QuerySet[CommissionPush]:
    """Pushes a person should look at: failed ones, and those being retried after errors."""
    return (
        CommissionPush.objects.filter(
            Q(state=State.FAILED) | (Q(state=State.PENDING) & ~Q(error=""))
        )
        .select_related("reward", "endpoint")
        .order_by("-updated", "-pk")
    )


def pushes_retry(pushes: Sequence[CommissionPush]) -> None:
    """Send failed pushes again, retried for another day (staff's retry button)."""
    now = timezone.now()
    CommissionPush.objects.filter(pk__in=[p.pk for p in pushes], state=State.FAILED).update(
        state=State.PENDING, next_attempt_at=now, since=now, attempts=0, updated=now
    )
    for endpoint_id in sorted({p.endpoint_id for p in pushes}):
        enqueue(send_pushes, endpoint_id)


def confirm(reward_pk: int, provider_status: object) -> None:
    """FirstPromoter's webhook says the commission is what staff decided: it has the decision,
    whatever became of the call (it may still be in flight, or have timed out after working)."""
    confirm_many({reward_pk: provider_status})


CONFIRMED_BY = {"approved": Action.APPROVE, "denied": Action.DENY}


def confirm_many(statuses: dict[int, object]) -> None:
    """`confirm` for {reward pk: FirstPromoter's status}: a statement per action at most."""
    for status, action in CONFIRMED_BY.items():
        if pks := [pk for pk, said in statuses.items() if said == status]:
            CommissionPush.objects.filter(
                reward_id__in=pks, action=action, state__in=[State.PENDING, State.FAILED]
            ).update(
                **_released(),
                state=State.DONE,
                done_at=timezone.now(),
                error="",
                note="Confirmed by FirstPromoter's webhook.",
            )


@task(takes_context=True)
def send_pushes(context: TaskContext, endpoint_id: int) -> None:
    """Send what is due for this endpoint's account, for up to RUN_FOR seconds."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return
    sender = f"task:{context.task_result.id}"
    stop_at = time.monotonic() + RUN_FOR
    api: FirstPromoterApi | None = None
    try:
        while rows := _claim(endpoint, sender):
            if not endpoint.has_api_credentials:
                _fail(rows, sender, "The endpoint has no API credentials any more.")
                continue
            api = api or FirstPromoterApi(endpoint)
            _send(api, rows, sender)
            if time.monotonic() > stop_at:
                enqueue(send_pushes, endpoint_id)  # a fresh task for the rest
                break
    finally:
        if api is not None:
            api.close()


def _due(endpoint: WebhookEndpoint, sender: str, now: datetime) -> QuerySet[CommissionPush]:
    free = Q(claimed_by="") | Q(claimed_by=sender) | Q(claimed_until__lt=now)
    approval_unsent = CommissionPush.objects.filter(
        reward=OuterRef("reward"), action=Action.APPROVE
    ).exclude(state=State.DONE)
    return (
        CommissionPush.objects.filter(endpoint=endpoint, state=State.PENDING)
        .filter(next_attempt_at__lte=now)
        .filter(free)
        # A commission is approved at FirstPromoter before it is marked fulfilled there.
        .exclude(Exists(approval_unsent), action=Action.MARK_FULFILLED)
    )


def _claim(endpoint: WebhookEndpoint, sender: str) -> list[CommissionPush]:
    """Up to 100 due rows of one action (a batch in progress first), leased to `sender`."""
    now = timezone.now()
    due = _due(endpoint, sender, now)
    started = due.exclude(batch_id=None).order_by("pk").values_list("batch_id", flat=True)[:1]
    if started:
        candidates = due.filter(batch_id=started[0])
    else:
        candidates = due.none()
        for action in Action.values:
            candidates = due.filter(action=action, batch_id=None)
            if candidates.exists():
                break
    ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:MAX_IDS])
    if not ids:
        return []
    # The conditions are checked again as each row is updated: of two workers, one takes a row.
    due.filter(pk__in=ids).update(claimed_by=sender, claimed_until=now + LEASE)
    claimed = CommissionPush.objects.filter(pk__in=ids, claimed_by=sender, state=State.PENDING)
    return list(claimed.select_related("reward").order_by("pk"))


def _send(api: FirstPromoterApi, rows: list[CommissionPush], sender: str) -> None:
    action = rows[0].action
    ids = [int(row.reward.external_id) for row in rows]
    try:
        if rows[0].batch_id is not None:
            batch = api.batch(rows[0].batch_id)
        else:
            batch = api.commission_action(action, ids)
            if not batch.finished:
                if batch.id is None:
                    raise Transient("FirstPromoter answered a pending batch without its id.")
                _mine(rows, sender).update(batch_id=batch.id)
        batch = _poll(api, batch)
        if not batch.finished:
            _later(rows, sender, POLL_LATER, "", count=False)
        elif batch.status == "stopped":
            _mine(rows, sender).update(batch_id=None)
            _retry(rows, sender, "FirstPromoter stopped the batch before the end.")
        elif batch.failed_count == 0 and batch.status == "completed":
            _done(rows, sender)
        else:
            _settle_failures(api, rows, sender, batch)
    except RateLimited as error:
        _later(rows, sender, error.retry_after, str(error), count=False)
    except Refused as error:
        if error.status == 422 and len(rows) > 1 and rows[0].batch_id is None:
            # One invalid id refuses the whole call: each is sent alone, so that only the
            # commissions FirstPromoter refuses fail.
            for row in rows:
                _send(api, [row], sender)
            return
        _fail(rows, sender, str(error))
    except Transient as error:
        _retry(rows, sender, str(error))


def _poll(api: FirstPromoterApi, batch: Batch) -> Batch:
    for delay in POLL_DELAYS:
        if batch.finished or batch.id is None:
            return batch
        time.sleep(delay)
        batch = api.batch(batch.id)
    return batch


def _settle_failures(
    api: FirstPromoterApi, rows: list[CommissionPush], sender: str, batch: Batch
) -> None:
    """A batch with failures names no ids: an approval or denial is read back per commission; a
    fulfilment, which a commission does not show, fails as a whole."""
    reason = "FirstPromoter could not apply it"
    if batch.errors:
        reason += ": " + "; ".join(batch.errors)[:1000]
    wanted = RESULTING_STATUS.get(rows[0].action)
    if wanted is None:
        _fail(rows, sender, reason)
        return
    statuses = {
        str(c.get("id")): c.get("status")
        for c in api.commissions([int(row.reward.external_id) for row in rows])
    }
    applied = [row for row in rows if statuses.get(row.reward.external_id) == wanted]
    _done(applied, sender)
    _fail([row for row in rows if row not in applied], sender, reason)


def _released() -> dict[str, object]:
    return {"claimed_by": "", "claimed_until": None, "updated": timezone.now()}


def _mine(rows: Sequence[CommissionPush], sender: str) -> QuerySet[CommissionPush]:
    """The rows as long as they are still this sender's and pending (a webhook may have
    confirmed them meanwhile)."""
    return CommissionPush.objects.filter(
        pk__in=[row.pk for row in rows], claimed_by=sender, state=State.PENDING
    )


def _done(rows: Sequence[CommissionPush], sender: str) -> None:
    _mine(rows, sender).update(
        **_released(),
        state=State.DONE,
        done_at=timezone.now(),
        error="",
        batch_id=None,
        attempts=F("attempts") + 1,
    )


def _fail(rows: Sequence[CommissionPush], sender: str, reason: str) -> None:
    _mine(rows, sender).update(
        **_released(),
        state=State.FAILED,
        error=reason,
        batch_id=None,
        attempts=F("attempts") + 1,
    )
    logger.warning("FirstPromoter did not take %d decision(s): %s", len(rows), reason)
    raising.pushes_failed(rows, reason)
    _note_waiting([row.reward_id for row in rows])


def _retry(rows: Sequence[CommissionPush], sender: str, reason: str) -> None:
    """Later with back-off; failed once they have been retried for FIRSTPROMOTER_PUSH_RETRY_FOR."""
    oldest_allowed = timezone.now() - settings.FIRSTPROMOTER_PUSH_RETRY_FOR
    expired = [row for row in rows if row.since <= oldest_allowed]
    if expired:
        attempts = max(row.attempts for row in expired) + 1
        _fail(expired, sender, f"Gave up after {attempts} attempts in a day: {reason}")
    if rest := [row for row in rows if row not in expired]:
        wait = backoff(max(row.attempts for row in rest) + 1).total_seconds()
        _later(rest, sender, wait, reason, count=True)


def _later(
    rows: Sequence[CommissionPush], sender: str, seconds: float, reason: str, *, count: bool
) -> None:
    at = timezone.now() + timedelta(seconds=seconds)
    updated = _mine(rows, sender).update(
        **_released(), next_attempt_at=at, error=reason, attempts=F("attempts") + int(count)
    )
    if updated:
        enqueue(send_pushes.using(run_after=at), rows[0].endpoint_id)
