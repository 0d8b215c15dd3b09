"""The inbox: store every verified delivery, then process it exactly once.

1. The delivery row is inserted on its own (autocommit), before any processing, so that nothing a
   provider sent is lost whatever happens next. The unique (endpoint, idempotency_key) constraint
   turns a redelivery into a conflict, and the existing row is used instead.
2. Processing runs in one transaction that first locks the delivery row: of two copies arriving
   at once, the second waits, then sees `processed` and answers as the first did. A failure rolls
   back every mirrored write, then the row is marked `failed` with its traceback, and the next
   redelivery (or `replay_webhooks`) processes it again.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload
from webhooks.providers import PROVIDERS
from webhooks.providers.base import Incoming, Outcome, Parsed, body_hash

logger = logging.getLogger(__name__)

STRIPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
FINAL = frozenset({WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED})
DEADLOCK_RETRIES = 3


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def receive(endpoint: WebhookEndpoint, incoming: Incoming) -> Answer:
    """Store, deduplicate and process one verified delivery; return what to answer."""
    module = PROVIDERS[endpoint.provider]
    parsed: Parsed | None = None
    problem: BadPayload | None = None
    try:
        parsed = module.parse(incoming)
    except BadPayload as exc:
        problem = exc
    delivery = _store(endpoint, incoming, parsed)
    if problem is not None:
        return _reject(delivery, problem)
    assert parsed is not None
    return process(delivery, parsed)


def replay(delivery: WebhookDelivery) -> Answer:
    """Process a stored delivery again, from what the inbox kept."""
    incoming = Incoming(
        method=delivery.method,
        headers=delivery.headers,
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
        return Answer(delivery.response_status or 200, {"status": delivery.status})
    return process(delivery, parsed)


def process(delivery: WebhookDelivery, parsed: Parsed) -> Answer:
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _process_once(delivery, parsed)
        except BadPayload as exc:
            return _reject(delivery, exc)
        except OperationalError as exc:
            if _is_retryable(exc) and attempt + 1 < DEADLOCK_RETRIES:
                time.sleep(0.01 * (attempt + 1))
                continue
            if _is_retryable(exc):
                return _fail(delivery, exc)
            raise  # the database is unreachable: the view answers 503
        except Exception as exc:
            return _fail(delivery, exc)
    raise AssertionError("unreachable")


def _process_once(delivery: WebhookDelivery, parsed: Parsed) -> Answer:
    module = PROVIDERS[delivery.provider]
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status in FINAL:
            outcome = module.repeat(parsed, locked) or Outcome(
                status=locked.status,
                http_status=locked.response_status or 200,
                body={"status": locked.status, "duplicate": True},
            )
            if outcome.http_status != locked.response_status:
                locked.response_status = outcome.http_status
                locked.save(update_fields=["response_status"])
            return _answer(locked, outcome.http_status, outcome.body)
        locked.processing_attempts += 1
        outcome = module.process(parsed, locked)
        locked.status = outcome.status
        locked.error = ""
        locked.processed_at = timezone.now()
        locked.response_status = outcome.http_status
        locked.save(
            update_fields=[
                "status",
                "error",
                "processed_at",
                "response_status",
                "processing_attempts",
            ]
        )
    return _answer(locked, outcome.http_status, outcome.body)


def _store(endpoint: WebhookEndpoint, incoming: Incoming, parsed: Parsed | None) -> WebhookDelivery:
    if parsed is not None:
        key, event_type, body = parsed.idempotency_key, parsed.event_type, parsed.stored_body
    else:
        key = f"sha256:{body_hash(incoming.method, incoming.query_string, incoming.body)}"
        event_type, body = "", incoming.body.decode("utf-8", errors="replace")
    headers = {k: v for k, v in incoming.headers.items() if k.lower() not in STRIPPED_HEADERS}
    try:
        with transaction.atomic():  # a savepoint when called inside a transaction (tests)
            return WebhookDelivery.objects.create(
                endpoint=endpoint,
                provider=endpoint.provider,
                idempotency_key=key[:255],
                event_type=event_type[:100],
                received_at=timezone.now(),
                method=incoming.method,
                headers=headers,
                query_string=incoming.query_string,
                body=body.replace("\x00", "\ufffd"),  # PostgreSQL text cannot hold NUL
            )
    except IntegrityError:
        existing = WebhookDelivery.objects.get(endpoint=endpoint, idempotency_key=key[:255])
        WebhookDelivery.objects.filter(pk=existing.pk).update(attempts=F("attempts") + 1)
        return existing


def _answer(delivery: WebhookDelivery, status_code: int, body: dict[str, Any]) -> Answer:
    return Answer(status_code, {"delivery_id": delivery.pk, **body})


def _reject(delivery: WebhookDelivery, problem: BadPayload) -> Answer:
    _mark(delivery, WebhookDelivery.Status.REJECTED, f"{problem.error}: {problem.detail}", 400)
    return _answer(delivery, 400, {"error": problem.error, "detail": problem.detail})


def _fail(delivery: WebhookDelivery, exc: BaseException) -> Answer:
    logger.exception("Processing webhook delivery %s failed", delivery.pk, exc_info=exc)
    text = "".join(traceback.format_exception(exc))
    _mark(delivery, WebhookDelivery.Status.FAILED, text, 500)
    return _answer(
        delivery,
        500,
        {"error": "processing_failed", "detail": "The delivery is stored and will be retried."},
    )


def _mark(delivery: WebhookDelivery, status: str, error: str, http_status: int) -> None:
    delivery.status, delivery.error, delivery.response_status = status, error, http_status
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status__in=FINAL).update(
        status=status,
        error=error,
        response_status=http_status,
        processing_attempts=F("processing_attempts") + 1,
    )


def _is_retryable(exc: OperationalError) -> bool:
    """Deadlocks and serialization failures: the transaction can simply run again."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in ("40P01", "40001")
