"""What the hub decides for a FirstPromoter reward, one SQL statement on the reward's row, and
whether that puts it in the fulfilment queue (the rule is `Reward.joins_fulfilment_queue`)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from referralhub.models import Campaign, Reward
from referralhub.rawsql import prepared
from webhooks.providers.base import Outcome
from webhooks.providers.firstpromoter.fields import V2_DELETED


def _one_of(column: str, name: str, values: frozenset[str]) -> tuple[str, dict[str, str]]:
    """`column IN (...)` over one of the models' lists of values, with its parameters."""
    params = {f"{name}{i}": value for i, value in enumerate(sorted(values))}
    return f"{column} IN ({', '.join(f'%({k})s' for k in params)})", params


# The hub adopts FirstPromoter's approval or denial, or the campaign's auto-approval, for a reward
# no person has decided: a staff decision, or a fulfilment, is never overridden by a webhook, but an
# automatic one follows FirstPromoter's later word (webhooks v2 sends a commission again when it
# is approved, denied or deleted there). Raw SQL, built once: the same statement through the
# ORM's Case/When/Exists took about 5 ms per delivery to compile, more than all of the delivery's
# other statements together.
# Only these constant fragments and the models' table names are put together; every value is a
# parameter.
# A commission deleted on FirstPromoter (webhooks v2) is denied like a denied one.
_AUTOMATIC = "(r.decided_by_id IS NULL AND r.fulfilment <> %(fulfilled)s)"
_REFUSED, _REFUSED_PARAMS = _one_of("r.provider_status", "refused", Reward.REFUSED_BY_PROVIDER)
_DENIED = f"({_AUTOMATIC} AND r.status <> %(denied)s AND {_REFUSED})"
_APPROVED = (
    f"({_AUTOMATIC} AND r.status <> %(approved)s AND NOT {_REFUSED}"  # noqa: S608
    f" AND (r.provider_status = %(approved)s OR (r.status = %(pending)s AND EXISTS ("
    f"SELECT 1 FROM {Campaign._meta.db_table} c"
    " WHERE c.id = r.campaign_id AND c.auto_approve_rewards))))"
)
# Every CASE reads the row as it was, so the decision can share one UPDATE with other changes.
DECISION = (
    f"status = CASE WHEN {_DENIED} THEN %(denied)s WHEN {_APPROVED} THEN %(approved)s"
    " ELSE r.status END, "
    f"decided_at = CASE WHEN {_DENIED} OR {_APPROVED} THEN %(now)s ELSE r.decided_at END, "
    f"decision_reason = CASE WHEN {_DENIED} OR {_APPROVED} THEN CASE r.provider_status"
    " WHEN %(approved)s THEN %(by_provider)s WHEN %(denied)s THEN %(by_provider)s"
    " WHEN %(deleted)s THEN %(by_deletion)s ELSE %(auto)s END"
    " ELSE r.decision_reason END, "
)
_UPDATE = f"UPDATE {Reward._meta.db_table} AS r SET "  # noqa: S608
_FULFILMENT = (
    "fulfilment = %(queued)s, "
    "fulfilment_requested_at = COALESCE(r.fulfilment_requested_at, %(now)s), "
    "fulfilment_last_requested_at = %(now)s, "
    "fulfilment_request_count = r.fulfilment_request_count + 1, updated = %(now)s "
    "WHERE r.id = %(pk)s AND r.fulfilment <> %(fulfilled)s RETURNING status"
)
_DECIDE_WHERE = f"{_UPDATE}{DECISION}updated = %(now)s WHERE "
SYNC_DECISION = prepared(f"{_DECIDE_WHERE}r.id = %(pk)s")
# What the fulfilment queue's rule reads (Reward.joins_fulfilment_queue), as the decision left it.
_QUEUE_FIELDS = ("id", "status", "fulfilment", "unit")
_RETURNING_QUEUE_FIELDS = f" RETURNING {', '.join(_QUEUE_FIELDS)}"
SYNC_DECISION_AND_READ = prepared(f"{_DECIDE_WHERE}r.id = %(pk)s{_RETURNING_QUEUE_FIELDS}")
REQUEST_FULFILMENT = prepared(f"{_UPDATE}{_FULFILMENT}")
REQUEST_FULFILMENT_AND_DECIDE = prepared(f"{_UPDATE}{DECISION}{_FULFILMENT}")


# The statements' constant values; each call adds the reward's pk and the time.
_REWARD_VALUES = {
    "pending": Reward.Status.PENDING,
    "approved": Reward.Status.APPROVED,
    "denied": Reward.Status.DENIED,
    "deleted": V2_DELETED,
    "by_provider": "Decided on FirstPromoter.",
    "by_deletion": "Deleted on FirstPromoter.",
    "auto": "The campaign auto-approves rewards.",
    "queued": Reward.Fulfilment.PENDING,
    "fulfilled": Reward.Fulfilment.FULFILLED,
    **_REFUSED_PARAMS,
}


def _reward_update(sql: str, reward_pk: int) -> list[tuple]:
    """Run one of the statements above for a reward; return the rows it returned."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {**_REWARD_VALUES, "pk": reward_pk, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def sync_decision(reward_pk: int) -> None:
    _reward_update(SYNC_DECISION, reward_pk)


def sync_decision_and_queue_v2(reward_pk: int) -> None:
    """Sync the decision, and queue the reward for fulfilment if that approved it.

    Webhooks v2 never send fulfilment_pending: FirstPromoter expects the company to deliver an
    approved non-monetary commission and mark it fulfilled there, so one approved (here or
    before) joins the queue without an ask, as a staff approval does."""
    _queue_the_approved(_reward_update(SYNC_DECISION_AND_READ, reward_pk))


def sync_decisions_and_queue_v2(reward_pks: Sequence[int]) -> None:
    """The same for many rewards in one statement (an import's page): each row's CASEs read that
    row alone, so the outcome per reward is the same as one statement each."""
    if not reward_pks:
        return
    pks = {f"pk{i}": pk for i, pk in enumerate(reward_pks)}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    listed = ", ".join(f"%({name})s" for name in pks)
    sql = f"{_DECIDE_WHERE}r.id IN ({listed}){_RETURNING_QUEUE_FIELDS}"
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_REWARD_VALUES, **pks, "now": now})
        _queue_the_approved(cursor.fetchall())


def _queue_the_approved(rows: Sequence[tuple]) -> None:
    """Queue the rewards among `rows` (`_QUEUE_FIELDS`, as the decision left them) that the
    fulfilment queue's rule takes: rarely any, so the statement is usually not run."""
    now = timezone.now()
    queued = []
    for row in rows:
        reward = Reward(**dict(zip(_QUEUE_FIELDS, row, strict=True)))
        if reward.joins_fulfilment_queue:
            queued.append(reward.pk)
    if queued:
        # Each row is locked by the decision's UPDATE until the transaction ends: still as read.
        Reward.objects.filter(pk__in=queued).update(
            fulfilment=Reward.Fulfilment.PENDING, fulfilment_requested_at=now, updated=now
        )


def request_fulfilment(reward_pk: int, *, decide: bool = False) -> str:
    """Queue the reward for fulfilment (or count one more ask); return "fulfilled" once it is,
    else its decision ("pending", "approved" or "denied").

    With `decide`, the reward's decision is synced in the same statement (see DECISION): a
    fulfilled reward was approved first, so skipping it skips nothing.
    """
    sql = REQUEST_FULFILMENT_AND_DECIDE if decide else REQUEST_FULFILMENT
    rows = _reward_update(sql, reward_pk)  # none when it was fulfilled already
    return rows[0][0] if rows else Reward.Fulfilment.FULFILLED


def fulfilment_answer(state: str, reward_id: str) -> Outcome:
    """Exactly 200 tells FirstPromoter the reward is fulfilled; 202 keeps it pending there.

    A reward staff denied will never be fulfilled: the answer is an error, which FirstPromoter
    retries a few times and then marks the reward `has_issues`, for someone to deny it there too.
    """
    if state == Reward.Fulfilment.FULFILLED:
        return Outcome(body={"status": "fulfilled", "reward_id": reward_id})
    if state == Reward.Status.DENIED:
        detail = "Denied in ReferralHub: it will not be fulfilled. Deny it in FirstPromoter too."
        return Outcome(
            http_status=409,
            body={"error": "reward_denied", "detail": detail, "reward_id": reward_id},
        )
    return Outcome(
        http_status=202,
        body={"status": "pending", "fulfilment": "pending", "reward_id": reward_id},
    )
