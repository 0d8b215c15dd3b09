"""Two references for the ingest benchmark, bench-only views that are never in the product's URLs,
served under the same Django middleware, gunicorn settings and database as the product.

- The floor: the least a webhook receiver on this stack can do with a delivery (parse the JSON,
  insert the body in one row).
- The least: the least that the inbox's rules (`webhooks/inbox.py`) allow, in the fewest round
  trips. It looks the endpoint up by its token, stores the delivery under its idempotency key in a
  statement of its own (so that a processing failure never loses it), then, in one more statement,
  claims the stored row (so that two copies have one effect) and upserts every object the payload
  carries, an older event never overwriting a newer one. No checks of the payload, no typed
  columns, no indexes but the keys, one table for every kind of object, no commit beyond each
  statement's own: what no implementation of those rules on this stack can do much better than.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse, QueryDict
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body text NOT NULL)"
)
LEAST_TABLES_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_least_inbox (id bigserial PRIMARY KEY, "
    "endpoint_id bigint NOT NULL, key text NOT NULL, body text NOT NULL, "
    "status text NOT NULL DEFAULT 'received', attempts int NOT NULL DEFAULT 1, "
    "received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (endpoint_id, key)); "
    "CREATE TABLE IF NOT EXISTS bench_least_object (id bigserial PRIMARY KEY, kind text NOT NULL, "
    "external_id text NOT NULL, provider_updated_at timestamptz, payload jsonb NOT NULL, "
    "UNIQUE (kind, external_id))"
)


@csrf_exempt
def floor(request: HttpRequest, provider: str) -> JsonResponse:
    body = request.body.decode() or request.META.get("QUERY_STRING", "")
    if request.body:
        json.loads(body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (body) VALUES (%s) RETURNING id", [body])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"status": "stored", "id": row_id})


ENDPOINT = (
    "SELECT id, secret FROM webhooks_webhookendpoint "
    "WHERE provider = %s AND token = %s AND is_active"
)
STORE = (
    "INSERT INTO bench_least_inbox (endpoint_id, key, body) VALUES (%s, %s, %s) "
    "ON CONFLICT (endpoint_id, key) DO UPDATE SET attempts = bench_least_inbox.attempts + 1 "
    "RETURNING id"
)
CLAIM_AND_MIRROR = (
    "WITH claim AS (UPDATE bench_least_inbox SET status = 'processed' "
    "WHERE id = %s AND status <> 'processed' RETURNING id), "
    "v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) "
    "AS x(kind text, external_id text, at timestamptz, payload jsonb)) "
    "INSERT INTO bench_least_object (kind, external_id, provider_updated_at, payload) "
    "SELECT kind, external_id, COALESCE(at, now()), payload FROM v "
    "WHERE EXISTS (SELECT 1 FROM claim) "
    "ORDER BY kind, external_id "
    "ON CONFLICT (kind, external_id) DO UPDATE "
    "SET payload = EXCLUDED.payload, provider_updated_at = EXCLUDED.provider_updated_at "
    "WHERE bench_least_object.provider_updated_at <= EXCLUDED.provider_updated_at"
)


@csrf_exempt
def least(request: HttpRequest, provider: str, token: str) -> JsonResponse:
    body = request.body
    text = body.decode() if body else request.META.get("QUERY_STRING", "")
    document = json.loads(text) if body else dict(QueryDict(text).items())
    with connection.cursor() as cursor:
        cursor.execute(ENDPOINT, [provider, token])
        if (endpoint := cursor.fetchone()) is None:
            raise Http404
        # The key of whatever a provider sends again: the body itself.
        key = hashlib.sha256(body or text.encode()).hexdigest()
        cursor.execute(STORE, [endpoint[0], key, text])
        (delivery_id,) = cursor.fetchone()
        objects = _objects(document, _provider_time(document))
        cursor.execute(CLAIM_AND_MIRROR, [delivery_id, json.dumps(objects)])
    return JsonResponse({"status": "processed", "delivery_id": delivery_id})


def _provider_time(document: dict[str, Any]) -> str | None:
    """FirstPromoter's event time; the others' objects are newer by arrival (the statement's
    now)."""
    event = document.get("event")
    return event.get("created_at") if isinstance(event, dict) else None


def _objects(document: dict[str, Any], at: str | None) -> list[dict[str, Any]]:
    """Every object with an id in the payload's data, two levels down: a lead, its promoter, its
    promotion... as many as the product mirrors from such a payload."""
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def visit(kind: str, value: Any, depth: int) -> None:
        if not isinstance(value, dict):
            return
        if isinstance(value.get("id"), int | str):
            external_id = str(value["id"])
            found[kind, external_id] = {
                "kind": kind,
                "external_id": external_id,
                "at": at,
                "payload": value,
            }
        if depth < 2:
            for key, item in value.items():
                visit(key, item, depth + 1)

    visit("data", document.get("data", document), 0)
    return list(found.values())


# /healthz, which bench/common.py polls, is the product's middleware (same MIDDLEWARE).
urlpatterns = [
    path("floor/<slug:provider>/", floor),
    path("least/<slug:provider>/<str:token>/", least),
]
