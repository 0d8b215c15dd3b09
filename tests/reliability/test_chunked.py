"""A chunked delivery through a real gunicorn: stored and processed, and 413 over the limit."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from tests.conftest import load_payload
from tests.servers import Gunicorn
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.postgres


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_chunked(port: int, path: str, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        # An iterable body with encode_chunked: Transfer-Encoding: chunked, no Content-Length.
        conn.request(
            "POST",
            path,
            body=chunks(body),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_gunicorn_passes_a_chunked_delivery_whole(live_database_url: str) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")
    event = load_payload("firstpromoter_lead_signup.json")
    over = json.dumps({"pad": "x" * (1024 * 1024)}).encode()

    with Gunicorn(live_database_url, workers=1) as server:
        status, answer = post_chunked(server.port, endpoint.path, json.dumps(event).encode())
        too_large, refusal = post_chunked(server.port, endpoint.path, over)

    assert status == 200, answer
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert json.loads(delivery.body)["event"] == event["event"]
    assert (too_large, refusal["error"]) == (413, "payload_too_large")
