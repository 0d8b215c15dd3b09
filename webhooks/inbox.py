"""The inbox: store every verified delivery, then process it exactly once.

1. The delivery row is inserted on its own (autocommit), before any processing, so that nothing a
   provider sent is lost whatever happens next. The unique (endpoint, idempotency_key) constraint
   turns a redelivery into a conflict: one `INSERT ... ON CONFLICT` statement stores a new delivery
   or counts one more attempt of the existing row, and returns that row.
2. Processing runs in one transaction that first claims the delivery row with a conditional
   UPDATE, which locks it: of two copies arriving at once, the second waits, then finds it
   processed and answers as the first did. A failure rolls back every mirrored write (and the
   claim), then the row is marked `failed` with its traceback, and the next redelivery (or
   `replay_webhooks`) processes it again.
3. A later attempt under the same key whose body differs is what the provider means now: when it
   is processed its body replaces the row's, and the replaced one is kept as a `DeliveryAttempt`;
   arriving once the row is final, it is not applied and is kept the same way. The first attempt,
   the usual case, costs nothing more.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping

from referralhub.alerts import raising
from referralhub.events.emit import emit_delivery_failed, mirror_changes
from referralhub.events.wanted import is_wanted
from referralhub.models import EventType
from referralhub.models.base import max_length
from referralhub.rawsql import column_list, fetch_instance, prepared
from webhooks.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload, redacted_text
from webhooks.providers import PROVIDERS
from webhooks.providers.base import Incoming, Outcome, Parsed, ProviderModule, body_hash

logger = logging.getLogger(__name__)

STRIPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
FINAL = frozenset({WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED})
DEADLOCK_RETRIES = 3
KEY_LENGTH = max_length(WebhookDelivery, "idempotency_key")
# What one attempt carried, as the inbox stores it: the columns a later attempt may replace.
Sent = dict[str, Any]
CONTENT = ("event_type", "method", "headers", "query_string", "body")


@dataclass
class EndpointResponse:
    """What the webhook endpoint answers the provider for one delivery."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def receive(endpoint: WebhookEndpoint, incoming: Incoming) -> EndpointResponse:
    """Store, deduplicate and process one verified delivery; return what to answer."""
    module = PROVIDERS[endpoint.provider]
    parsed: Parsed | None = None
    problem: BadPayload | None = None
    try:
        parsed = module.parse(incoming)
    except BadPayload as exc:
        problem = exc
    delivery, sent = _store(endpoint, incoming, parsed)
    if problem is not None:
        # Its key is its body's hash: a row found under it holds that very body.
        return _reject(delivery, problem)
    assert parsed is not None
    return process(delivery, parsed, sent if _carries_another_body(delivery, sent) else None)


def replay(delivery: WebhookDelivery) -> EndpointResponse:
    """Process a stored delivery again, from what the inbox kept."""
    if delivery.status == WebhookDelivery.Status.IGNORED:
        _reopen(delivery)
    incoming = Incoming(
        method=delivery.method,
        headers=CaseInsensitiveMapping(delivery.headers),
        query_string=delivery.query_string,
        body=delivery.body.encode(),
        content_type=delivery.headers.get("Content-Type", ""),
    )
    try:
        parsed = PROVIDERS[delivery.provider].parse(incoming)
    except BadPayload as exc:
        return _reject(delivery, exc)
    if delivery.status in FINAL:
        # Replaying a processed delivery must not have a second effect: force a fresh run only
        # for the ones that did not complete.
        return EndpointResponse(delivery.response_status or 200, {"status": delivery.status})
    if delivery.event_type != parsed.event_type:
        # Rejected unread (its event type unknown then), and readable now: e.g. a kind of
        # delivery the hub learnt to read since. Its key stays: a copy may be stored under it.
        delivery.event_type = parsed.event_type
        WebhookDelivery.objects.filter(pk=delivery.pk).update(event_type=parsed.event_type)
    return process(delivery, parsed)


def _reopen(delivery: WebhookDelivery) -> None:
    """An ignored delivery had no effect: make it processable again, e.g. once the hub handles its
    event type. Conditional, so that of two replays at once only one reopens it."""
    reopened = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.IGNORED
    ).update(status=WebhookDelivery.Status.RECEIVED)
    if reopened:
        delivery.status = WebhookDelivery.Status.RECEIVED


def process(
    delivery: WebhookDelivery, parsed: Parsed, sent: Sent | None = None
) -> EndpointResponse:
    """Process `delivery` from `parsed`. `sent`: this attempt's stored values, where they differ
    from the row's (a later attempt under the same key with another body)."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _process_once(delivery, parsed, sent)
        except BadPayload as exc:
            return _reject(delivery, exc, sent)
        except OperationalError as exc:
            if _is_retryable(exc) and attempt + 1 < DEADLOCK_RETRIES:
                time.sleep(0.01 * (attempt + 1))
                continue
            if _is_retryable(exc):
                return _fail(delivery, exc, sent)
            raise  # the database is unreachable: the view answers 503
        except Exception as exc:
            return _fail(delivery, exc, sent)
    raise AssertionError("unreachable")


def _process_once(delivery: WebhookDelivery, parsed: Parsed, sent: Sent | None) -> EndpointResponse:
    module = PROVIDERS[delivery.provider]
    with transaction.atomic():
        now = timezone.now()
        # Another body: the row's as it is now, locked, so that what is set aside is exact.
        held = _lock_content(delivery.pk) if sent is not None else None
        # The claim. Its row lock is held until commit: a copy of this delivery arriving now
        # waits here, then matches no row (the status is final by then) and answers as a repeat.
        # It records the usual outcome at once, saving a statement; a rollback undoes it.
        if not _claim(delivery.pk, now):
            stored = WebhookDelivery.objects.get(pk=delivery.pk)
            if sent is not None:
                _keep_other(stored.pk, sent, DeliveryAttempt.Outcome.LATE, _content(stored), now)
            return _repeat(module, parsed, stored)
        if sent is not None and held is not None:
            _replace_body(delivery, sent, held, now)
        with mirror_changes():
            outcome = module.process(parsed, delivery)
        if (outcome.status, outcome.http_status) != (WebhookDelivery.Status.PROCESSED, 200):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=outcome.status, response_status=outcome.http_status
            )
    return _answer(delivery, outcome.http_status, outcome.body)


# Raw SQL, built once: the same UPDATE through the ORM cost more to compile than to run.
# Values are parameters; the table name is the model's own.
_FINAL_PARAMS = {f"final{i}": status for i, status in enumerate(sorted(FINAL))}
_CLAIM_VALUES = {"processed": WebhookDelivery.Status.PROCESSED, **_FINAL_PARAMS}
CLAIM = prepared(
    f"UPDATE {WebhookDelivery._meta.db_table} SET status = %(processed)s, error = '', "  # noqa: S608
    "processed_at = %(now)s, response_status = 200, "
    "processing_attempts = processing_attempts + 1 "
    f"WHERE id = %(pk)s AND status NOT IN ({', '.join(f'%({k})s' for k in _FINAL_PARAMS)})"
)


def _claim(pk: int, now: datetime) -> bool:
    """Lock the delivery and record the usual outcome, unless it is already final."""
    params = {**_CLAIM_VALUES, "pk": pk, "now": connection.ops.adapt_datetimefield_value(now)}
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, params)
        return cursor.rowcount == 1


def _repeat(module: ProviderModule, parsed: Parsed, stored: WebhookDelivery) -> EndpointResponse:
    """A delivery already processed: no second effect, and the first answer (unless the provider
    module answers repeats from the state now, as FirstPromoter's fulfilment protocol needs)."""
    outcome = module.repeat(parsed, stored) or Outcome(
        status=stored.status,
        http_status=stored.response_status or 200,
        body={"status": stored.status, "duplicate": True},
    )
    if outcome.http_status != stored.response_status:
        stored.response_status = outcome.http_status
        stored.save(update_fields=["response_status"])
    return _answer(stored, outcome.http_status, outcome.body)


def _store(
    endpoint: WebhookEndpoint, incoming: Incoming, parsed: Parsed | None
) -> tuple[WebhookDelivery, Sent]:
    """The delivery row for this attempt, and what this attempt carried as the row stores it."""
    if parsed is not None:
        key, event_type, body = parsed.idempotency_key, parsed.event_type, parsed.stored_body
    else:
        key = f"sha256:{body_hash(incoming.method, incoming.query_string, incoming.body)}"
        event_type, body = "", redacted_text(incoming.body)
    if len(key) > KEY_LENGTH:  # hashed rather than cut, so that distinct keys stay distinct
        key = f"sha256:{body_hash(key)}"
    # The endpoint's own authentication header carries a shared secret, as Authorization does.
    stripped = STRIPPED_HEADERS | {endpoint.header_name.lower()}
    headers = {
        k: v.replace("\x00", "\ufffd")
        for k, v in incoming.headers.items()
        if k.lower() not in stripped
    }
    sent: Sent = {
        "event_type": event_type[:100],
        "method": incoming.method,
        "headers": headers,
        "query_string": incoming.query_string.replace("\x00", "\ufffd"),
        "body": body.replace("\x00", "\ufffd"),  # PostgreSQL text cannot hold NUL
    }
    delivery = _insert_or_count_attempt(
        endpoint_id=endpoint.pk,
        provider=endpoint.provider,
        idempotency_key=key,
        received_at=timezone.now(),
        **sent,
    )
    return delivery, sent


def _carries_another_body(delivery: WebhookDelivery, sent: Sent) -> bool:
    """Whether this attempt found a row (a redelivery) holding another body than its own.
    Headers are not compared: a provider's differ between attempts (times, signatures)."""
    if delivery.attempts == 1:
        return False  # just inserted: the usual case, settled without a look at the body
    return any(getattr(delivery, name) != sent[name] for name in ("body", "query_string", "method"))


def _content(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        **{name: getattr(delivery, name) for name in CONTENT},
        "status": delivery.status,
        "error": delivery.error,
    }


def _lock_content(pk: int) -> dict[str, Any]:
    """The row's body, headers, status and error, its row locked until the transaction ends."""
    return (
        WebhookDelivery.objects.select_for_update()
        .filter(pk=pk)
        .values(*CONTENT, "status", "error")
        .get()
    )


def _keep_other(
    pk: int, kept: dict[str, Any], outcome: str, held: dict[str, Any], now: datetime
) -> None:
    """Keep a body the row does not hold: `kept`'s content, with the status `held` had."""
    DeliveryAttempt.objects.create(
        delivery_id=pk,
        outcome=outcome,
        recorded_at=now,
        status=held["status"],
        error=held["error"] if outcome == DeliveryAttempt.Outcome.REPLACED else "",
        **{name: kept[name] for name in CONTENT},
    )


def _replace_body(
    delivery: WebhookDelivery, sent: Sent, held: dict[str, Any], now: datetime
) -> None:
    """The row takes this attempt's body; the one it held is kept, with its status and error.
    The caller holds the row's lock."""
    if all(held[name] == sent[name] for name in ("body", "query_string", "method")):
        return  # a copy of this attempt replaced it a moment ago
    _keep_other(delivery.pk, held, DeliveryAttempt.Outcome.REPLACED, held, now)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**sent)
    for name, value in sent.items():
        setattr(delivery, name, value)


# The inbox row's fields other than its id, in the order of the INSERT's values.
_STORED: tuple[models.Field, ...] = tuple(
    f for f in WebhookDelivery._meta.concrete_fields if not f.primary_key
)
_STORED_DEFAULTS: dict[str, Any] = {f.attname: f.get_default() for f in _STORED}
_RETURNED: tuple[str, ...] = tuple(f.attname for f in WebhookDelivery._meta.concrete_fields)


def _insert_or_count_attempt(**values: Any) -> WebhookDelivery:
    """Insert the delivery, or add one attempt to the stored one with its key; return the row.

    One statement, so it needs no transaction of its own and has no race: two copies arriving at
    once get the same row, its attempts counting both.
    """
    row = {**_STORED_DEFAULTS, **values}
    params = [f.get_db_prep_save(row[f.attname], connection) for f in _STORED]
    delivery = fetch_instance(WebhookDelivery, _insert_sql(connection.vendor), params, _RETURNED)
    assert delivery is not None  # an upsert returns its row
    return delivery


@cache
def _insert_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    table, attempts = qn(WebhookDelivery._meta.db_table), qn("attempts")
    # Only quoted identifiers from the model's own metadata are interpolated; values are params.
    return prepared(
        f"INSERT INTO {table} ({', '.join(qn(f.column) for f in _STORED)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_STORED))}) "
        f"ON CONFLICT ({qn('endpoint_id')}, {qn('idempotency_key')}) "
        f"DO UPDATE SET {attempts} = {table}.{attempts} + 1 "
        f"RETURNING {column_list(WebhookDelivery, _RETURNED)}"
    )


def _answer(delivery: WebhookDelivery, status_code: int, body: dict[str, Any]) -> EndpointResponse:
    return EndpointResponse(status_code, {"delivery_id": delivery.pk, **body})


def _reject(
    delivery: WebhookDelivery, problem: BadPayload, sent: Sent | None = None
) -> EndpointResponse:
    error = f"{problem.error}: {problem.detail}"
    _mark(delivery, WebhookDelivery.Status.REJECTED, error, 400, sent)
    return _answer(delivery, 400, {"error": problem.error, "detail": problem.detail})


def _fail(
    delivery: WebhookDelivery, exc: BaseException, sent: Sent | None = None
) -> EndpointResponse:
    logger.exception("Processing webhook delivery %s failed", delivery.pk, exc_info=exc)
    text = "".join(traceback.format_exception(exc))
    _mark(delivery, WebhookDelivery.Status.FAILED, text, 500, sent)
    return _answer(
        delivery,
        500,
        {"error": "processing_failed", "detail": "The delivery is stored and will be retried."},
    )


def _mark(
    delivery: WebhookDelivery, status: str, error: str, http_status: int, sent: Sent | None = None
) -> None:
    """Record a failed or rejected processing. `sent`: another body was tried, and rolled back
    with the processing; it replaces the row's all the same, since the error is about it."""
    if sent is not None:
        with transaction.atomic():
            held = _lock_content(delivery.pk)
            if held["status"] in FINAL:
                _keep_other(delivery.pk, sent, DeliveryAttempt.Outcome.LATE, held, timezone.now())
                return
            _replace_body(delivery, sent, held, timezone.now())
            _mark(delivery, status, error, http_status)
        return
    delivery.status, delivery.error, delivery.response_status = status, error, http_status
    if not is_wanted(EventType.DELIVERY_FAILED):
        if _mark_row(delivery.pk, status, error, http_status):
            raising.delivery_failed(delivery)  # one UPDATE, but for the first of a while
        return
    with transaction.atomic():  # the event with the change, or neither
        if _mark_row(delivery.pk, status, error, http_status):
            emit_delivery_failed(delivery.pk)
            raising.delivery_failed(delivery)


def _mark_row(pk: int, status: str, error: str, http_status: int) -> bool:
    return bool(
        WebhookDelivery.objects.filter(pk=pk)
        .exclude(status__in=FINAL)
        .update(
            status=status,
            error=error,
            response_status=http_status,
            processing_attempts=F("processing_attempts") + 1,
        )
    )


def _is_retryable(exc: OperationalError) -> bool:
    """Deadlocks and serialization failures: the transaction can simply run again."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in ("40P01", "40001")
