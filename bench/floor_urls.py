"""The floor: the least a webhook receiver on this stack can do with a delivery (parse the JSON,
insert the body in one row), under the same Django middleware, gunicorn and database as the
product. Its throughput is what the full pipeline is compared with."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body text NOT NULL)"
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


# /healthz, which bench/common.py polls, is the product's middleware (same MIDDLEWARE).
urlpatterns = [
    path("floor/<slug:provider>/", floor),
]
