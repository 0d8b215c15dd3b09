"""A body sent with `Transfer-Encoding: chunked` has no Content-Length: it is read from the server's
stream, up to the same limit, where Django alone would read it as empty."""

from __future__ import annotations

import io
import json

from tests.webhooks.conftest import only_delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint


def post_chunked(client, endpoint: WebhookEndpoint, body: bytes, *, terminated: bool = True):
    """What gunicorn hands Django for a chunked request: the body de-chunked on wsgi.input,
    no CONTENT_LENGTH, and wsgi.input_terminated set."""
    environ = {"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(body)}
    if terminated:
        environ["wsgi.input_terminated"] = True
    return client.generic("POST", endpoint.path, b"", content_type="application/json", **environ)


def test_it_stores_and_processes_a_chunked_delivery(client, fp_endpoint, fp_event) -> None:
    body = json.dumps(fp_event("lead_signup")).encode()

    response = post_chunked(client, fp_endpoint, body)

    assert response.status_code == 200, response.content
    delivery = only_delivery()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert json.loads(delivery.body)["event"] == fp_event("lead_signup")["event"]


def test_it_answers_413_for_a_chunked_body_over_the_limit(client, fp_endpoint, settings) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 64
    body = json.dumps({"pad": "x" * 64}).encode()

    response = post_chunked(client, fp_endpoint, body)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert WebhookDelivery.objects.count() == 0


def test_it_takes_a_chunked_body_of_exactly_the_limit(client, fp_endpoint, settings) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 200_000
    body = json.dumps({"pad": "x" * 200_000})[: 200_000 - 2].encode() + b'"}'

    response = post_chunked(client, fp_endpoint, body)

    assert response.status_code == 400  # read whole and stored: no such event, but not a 413
    assert len(only_delivery().body) == 200_000
